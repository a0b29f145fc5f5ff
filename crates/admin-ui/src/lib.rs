//! The admin dashboard's built files (from `ui/`), embedded in the binary and served at `/_/`.

use rust_embed::RustEmbed;

/// The dashboard's static files, embedded at compile time from `crates/admin-ui/dist`.
#[derive(RustEmbed)]
#[folder = "dist/"]
pub struct Assets;

/// The bytes of one dashboard file, by path relative to the dashboard root.
pub fn asset(path: &str) -> Option<std::borrow::Cow<'static, [u8]>> {
    Assets::get(path).map(|file| file.data)
}
