//! The admin dashboard, embedded in the binary and served at `/_/`.
//!
//! The dashboard is plain ES modules, HTML and CSS in `ui/` at the repository root, with no
//! build step, so it is embedded from there directly (`ui/vendor/` holds the libraries it uses,
//! copied from npm by `ui/vendor.sh`: the official PocketBase SDK, Preact and htm). Tooling
//! files and the vendored libraries' license texts are left out.

use rust_embed::RustEmbed;

/// The dashboard's files, embedded at compile time from `ui/`.
#[derive(RustEmbed)]
#[folder = "../../ui/"]
#[exclude = "*.sh"]
#[exclude = "vendor/licenses/*"]
pub struct Assets;

/// The bytes of one dashboard file, by path relative to the dashboard root.
pub fn asset(path: &str) -> Option<std::borrow::Cow<'static, [u8]>> {
    Assets::get(path).map(|file| file.data)
}
