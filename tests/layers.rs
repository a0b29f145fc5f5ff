//! Keeps the layers of `docs/ARCHITECTURE.md` true.
//!
//! Reads every source file of `crates/sql`, `crates/core`, `crates/api` and `crates/js`, collects the module
//! paths each one names (`use crate::…`, `super::…`, `crate::…` in expressions and types), and
//! fails when:
//! - modules with the same parent import each other in a circle (at every level of the module
//!   tree: top-level modules, the files of a folder, the inline modules of a file). A module
//!   naming its own ancestor or descendant is its structure, not a circle, and is not counted;
//! - a top-level module imports one placed above it in the layer order, which is written once,
//!   in the `layers` block of `docs/ARCHITECTURE.md`.
//!
//! Test-only code (`#[cfg(test)]` items) is not part of the layering and is skipped.

#![allow(clippy::unwrap_used)] // a test: an unreadable source tree is a failed check

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::visit::Visit;

type ModPath = Vec<String>;

const CRATES: [(&str, &str); 4] = [
    ("sql", "crates/sql/src"),
    ("core", "crates/core/src"),
    ("api", "crates/api/src"),
    ("js", "crates/js/src"),
];

#[test]
fn no_import_circle_and_layers_point_down() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let order = layer_order(&std::fs::read_to_string(root.join("docs/ARCHITECTURE.md")).unwrap());
    let mut problems = Vec::new();
    for (name, dir) in CRATES {
        let graph = crate_graph(&root.join(dir));
        if std::env::var_os("LAYERS_PRINT").is_some() {
            print_top_level(name, &graph);
        }
        problems.extend(circles(name, &graph));
        match order.get(name) {
            Some(levels) => problems.extend(upward_imports(name, &graph, levels)),
            None => problems.push(format!("{name}: no layer order in docs/ARCHITECTURE.md")),
        }
    }
    assert!(
        problems.is_empty(),
        "layer check failed:\n{}",
        problems.join("\n")
    );
}

/// SQL text belongs to `oxbase-sql`, the store and `records/query.rs` (the shapes of record
/// queries). Any other file of the core or the API that writes some says why, in a `//! SQL:`
/// line of its module docs.
#[test]
fn sql_text_elsewhere_says_why() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut missing = Vec::new();
    for dir in ["crates/core/src", "crates/api/src"] {
        let src = root.join(dir);
        let mut files = Vec::new();
        collect_files(&src, &mut files);
        for file in files {
            let name = file.strip_prefix(&src).unwrap().display().to_string();
            if dir.ends_with("core/src")
                && (name.starts_with("store/") || name == "records/query.rs")
            {
                continue;
            }
            let text = std::fs::read_to_string(&file).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or("");
            let writes_sql = ["Sql::raw(", "Sql::new()", ".push_sql(", ".push(&format!("]
                .iter()
                .any(|s| code.contains(s));
            if writes_sql && !text.lines().any(|l| l.starts_with("//! SQL:")) {
                missing.push(format!("{dir}/{name}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "SQL text without a `//! SQL:` reason in: {missing:?}"
    );
}

/// The edges between modules of one crate: (importer, imported), both as full module paths.
struct CrateGraph {
    modules: BTreeSet<ModPath>,
    edges: BTreeMap<(ModPath, ModPath), BTreeSet<String>>,
}

fn crate_graph(src: &Path) -> CrateGraph {
    let mut files = Vec::new();
    collect_files(src, &mut files);
    let parsed: Vec<(ModPath, String, syn::File)> = files
        .iter()
        .map(|file| {
            let text = std::fs::read_to_string(file).unwrap();
            let ast = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let name = file.strip_prefix(src).unwrap().display().to_string();
            (file_module(src, file), name, ast)
        })
        .collect();
    // First the modules (files and inline `mod x { }`), so paths can be resolved against them.
    let mut modules = BTreeSet::new();
    for (module, _, ast) in &parsed {
        modules_insert(&mut modules, module);
        inline_modules(module, &ast.items, &mut modules);
    }
    let mut references = Vec::new();
    let mut reexports = BTreeMap::new();
    for (module, file, ast) in &parsed {
        let mut visitor = Collector {
            module: module.clone(),
            file: file.clone(),
            modules: &modules,
            references: &mut references,
            reexports: &mut reexports,
        };
        visitor.visit_file(ast);
    }
    let mut edges: BTreeMap<(ModPath, ModPath), BTreeSet<String>> = BTreeMap::new();
    for (from, path, file) in references {
        let Some(target) = resolve(&modules, &reexports, path) else {
            continue;
        };
        if target.starts_with(&from) || from.starts_with(&target) {
            continue;
        }
        edges.entry((from, target)).or_default().insert(file);
    }
    CrateGraph { modules, edges }
}

fn inline_modules(parent: &ModPath, items: &[syn::Item], modules: &mut BTreeSet<ModPath>) {
    for item in items {
        if let syn::Item::Mod(m) = item
            && let Some((_, content)) = &m.content
        {
            let mut module = parent.clone();
            module.push(m.ident.to_string());
            modules.insert(module.clone());
            inline_modules(&module, content, modules);
        }
    }
}

/// The module a path lands in, following re-exports (`crate::Dialect` is `crate::dialect`'s).
fn resolve(
    modules: &BTreeSet<ModPath>,
    reexports: &BTreeMap<(ModPath, String), ModPath>,
    mut path: ModPath,
) -> Option<ModPath> {
    for _ in 0..16 {
        let module = longest_module(modules, &path)?;
        let Some(next) = path.get(module.len()) else {
            return Some(module);
        };
        match reexports.get(&(module.clone(), next.clone())) {
            Some(target) if *target != path[..=module.len()] => {
                let mut resolved = target.clone();
                resolved.extend(path[module.len() + 1..].iter().cloned());
                path = resolved;
            }
            _ => return Some(module),
        }
    }
    None
}

fn modules_insert(modules: &mut BTreeSet<ModPath>, module: &ModPath) {
    for len in 0..=module.len() {
        modules.insert(module[..len].to_vec());
    }
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn file_module(src: &Path, file: &Path) -> ModPath {
    let relative = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: ModPath = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The deepest known module a path names (`crate::records::list::page` → `records::list`).
fn longest_module(modules: &BTreeSet<ModPath>, path: &[String]) -> Option<ModPath> {
    (0..=path.len())
        .rev()
        .map(|len| path[..len].to_vec())
        .find(|p| modules.contains(p))
}

struct Collector<'a> {
    module: ModPath,
    file: String,
    modules: &'a BTreeSet<ModPath>,
    references: &'a mut Vec<(ModPath, ModPath, String)>,
    /// `pub use` items: (module, exported name) -> the path it stands for.
    reexports: &'a mut BTreeMap<(ModPath, String), ModPath>,
}

impl Collector<'_> {
    /// Resolves a path's leading `crate`/`super`/`self` segments; `None` for other roots
    /// (external crates, names in scope: those came in through a `use` already seen).
    fn absolute(&self, segments: &[String]) -> Option<ModPath> {
        let mut base = match segments.first()?.as_str() {
            "crate" => Vec::new(),
            "super" | "self" => self.module.clone(),
            child => {
                // `use list::page;` in `records`: a path may start at a child module.
                let mut path = self.module.clone();
                path.push(child.to_string());
                if !self.modules.contains(&path) {
                    return None;
                }
                self.module.clone()
            }
        };
        let mut rest = if segments[0] == "crate" {
            &segments[1..]
        } else {
            segments
        };
        while let Some(first) = rest.first() {
            match first.as_str() {
                "super" => {
                    base.pop();
                }
                "self" => {}
                _ => break,
            }
            rest = &rest[1..];
        }
        base.extend(rest.iter().cloned());
        Some(base)
    }

    fn record(&mut self, segments: &[String]) {
        if let Some(path) = self.absolute(segments) {
            self.references
                .push((self.module.clone(), path, self.file.clone()));
        }
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree, public: bool) {
        let (name, alias) = match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree, public);
                prefix.pop();
                return;
            }
            syn::UseTree::Group(g) => {
                for item in &g.items {
                    self.use_tree(prefix, item, public);
                }
                return;
            }
            syn::UseTree::Glob(_) => return self.record(prefix),
            syn::UseTree::Name(n) => (n.ident.to_string(), n.ident.to_string()),
            syn::UseTree::Rename(r) => (r.ident.to_string(), r.rename.to_string()),
        };
        prefix.push(name);
        self.record(prefix);
        if public && let Some(target) = self.absolute(prefix) {
            self.reexports.insert((self.module.clone(), alias), target);
        }
        prefix.pop();
    }
}

fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.meta
                .require_list()
                .is_ok_and(|l| l.tokens.to_string() == "test")
    })
}

impl<'ast> Visit<'ast> for Collector<'_> {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        let attrs = match item {
            syn::Item::Mod(m) => &m.attrs,
            syn::Item::Fn(f) => &f.attrs,
            syn::Item::Impl(i) => &i.attrs,
            syn::Item::Use(u) => &u.attrs,
            syn::Item::Struct(s) => &s.attrs,
            syn::Item::Enum(e) => &e.attrs,
            syn::Item::Const(c) => &c.attrs,
            syn::Item::Static(s) => &s.attrs,
            syn::Item::Trait(t) => &t.attrs,
            _ => return syn::visit::visit_item(self, item),
        };
        if !is_test_only(attrs) {
            syn::visit::visit_item(self, item);
        }
    }

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        if item.content.is_none() {
            return;
        }
        self.module.push(item.ident.to_string());
        syn::visit::visit_item_mod(self, item);
        self.module.pop();
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        let public = !matches!(item.vis, syn::Visibility::Inherited);
        self.use_tree(&mut Vec::new(), &item.tree, public);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        self.record(&segments);
        syn::visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        // Paths inside macro bodies (`format!`, `matches!`...) are tokens to syn: scan them for
        // `crate::`/`super::` sequences so a call inside a macro still counts.
        scan_tokens(self, &flatten(mac.tokens.clone()));
        syn::visit::visit_macro(self, mac);
    }
}

fn flatten(tokens: proc_macro2::TokenStream) -> Vec<String> {
    let mut out = Vec::new();
    for token in tokens {
        match token {
            proc_macro2::TokenTree::Group(g) => {
                out.push(" ".into());
                out.extend(flatten(g.stream()));
                out.push(" ".into());
            }
            proc_macro2::TokenTree::Punct(p) => out.push(p.as_char().to_string()),
            other => out.push(other.to_string()),
        }
    }
    out
}

fn scan_tokens(collector: &mut Collector<'_>, tokens: &[String]) {
    let mut i = 0;
    while i < tokens.len() {
        if matches!(tokens[i].as_str(), "crate" | "super") {
            let mut segments = vec![tokens[i].clone()];
            let mut j = i + 1;
            while j + 2 < tokens.len() && tokens[j] == ":" && tokens[j + 1] == ":" {
                segments.push(tokens[j + 2].clone());
                j += 3;
            }
            if segments.len() > 1 {
                collector.record(&segments);
            }
            i = j;
        } else {
            i += 1;
        }
    }
}

/// Circles among siblings, at every level of the module tree.
fn circles(krate: &str, graph: &CrateGraph) -> Vec<String> {
    let mut by_parent: BTreeMap<ModPath, BTreeMap<(String, String), BTreeSet<String>>> =
        BTreeMap::new();
    for ((from, to), files) in &graph.edges {
        let common = from.iter().zip(to).take_while(|(a, b)| a == b).count();
        let parent = from[..common].to_vec();
        by_parent
            .entry(parent)
            .or_default()
            .entry((from[common].clone(), to[common].clone()))
            .or_default()
            .extend(files.iter().cloned());
    }
    let mut problems = Vec::new();
    for (parent, edges) in by_parent {
        for component in strongly_connected(&edges) {
            let place = if parent.is_empty() {
                krate.to_string()
            } else {
                format!("{krate}::{}", parent.join("::"))
            };
            let detail: Vec<String> = edges
                .iter()
                .filter(|((a, b), _)| component.contains(a) && component.contains(b))
                .map(|((a, b), files)| {
                    format!(
                        "    {a} -> {b} (in {})",
                        files.iter().cloned().collect::<Vec<_>>().join(", ")
                    )
                })
                .collect();
            problems.push(format!(
                "import circle in {place}: {}\n{}",
                component.iter().cloned().collect::<Vec<_>>().join(", "),
                detail.join("\n")
            ));
        }
    }
    debug_assert!(graph.modules.contains(&Vec::new()));
    problems
}

/// Tarjan's algorithm; returns the components with more than one node.
fn strongly_connected(
    edges: &BTreeMap<(String, String), BTreeSet<String>>,
) -> Vec<BTreeSet<String>> {
    let mut nodes: BTreeSet<&String> = BTreeSet::new();
    let mut next: BTreeMap<&String, Vec<&String>> = BTreeMap::new();
    for (a, b) in edges.keys() {
        nodes.insert(a);
        nodes.insert(b);
        next.entry(a).or_default().push(b);
    }
    struct State<'s> {
        index: BTreeMap<&'s String, usize>,
        low: BTreeMap<&'s String, usize>,
        stack: Vec<&'s String>,
        on_stack: BTreeSet<&'s String>,
        found: Vec<BTreeSet<String>>,
    }
    fn visit<'s>(
        node: &'s String,
        next: &BTreeMap<&'s String, Vec<&'s String>>,
        s: &mut State<'s>,
    ) {
        let i = s.index.len();
        s.index.insert(node, i);
        s.low.insert(node, i);
        s.stack.push(node);
        s.on_stack.insert(node);
        for &to in next.get(node).map(Vec::as_slice).unwrap_or_default() {
            if !s.index.contains_key(to) {
                visit(to, next, s);
                let low = s.low[node].min(s.low[to]);
                s.low.insert(node, low);
            } else if s.on_stack.contains(to) {
                let low = s.low[node].min(s.index[to]);
                s.low.insert(node, low);
            }
        }
        if s.low[node] == s.index[node] {
            let mut component = BTreeSet::new();
            while let Some(top) = s.stack.pop() {
                s.on_stack.remove(top);
                component.insert(top.clone());
                if top == node {
                    break;
                }
            }
            if component.len() > 1 {
                s.found.push(component);
            }
        }
    }
    let mut state = State {
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for node in nodes {
        if !state.index.contains_key(node) {
            visit(node, &next, &mut state);
        }
    }
    state.found
}

/// The `layers` block: one line per crate, `core: app > records, realtime > store`, highest
/// layer first; modules in one layer may import each other (without a circle).
fn layer_order(doc: &str) -> BTreeMap<String, Vec<BTreeSet<String>>> {
    let block = doc
        .split("```layers\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("docs/ARCHITECTURE.md has a ```layers block");
    let mut order = BTreeMap::new();
    let mut current: Option<(String, String)> = None;
    let mut lines: Vec<(String, String)> = Vec::new();
    for line in block.lines() {
        if let Some((krate, rest)) = line.split_once(':').filter(|(k, _)| !k.starts_with(' ')) {
            if let Some(done) = current.take() {
                lines.push(done);
            }
            current = Some((krate.trim().to_string(), rest.to_string()));
        } else if let Some((_, text)) = current.as_mut() {
            text.push(' ');
            text.push_str(line);
        }
    }
    lines.extend(current);
    for (krate, text) in lines {
        let levels = text
            .split('>')
            .map(|level| {
                level
                    .split([',', ' '])
                    .filter(|m| !m.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .collect();
        order.insert(krate, levels);
    }
    order
}

fn upward_imports(krate: &str, graph: &CrateGraph, levels: &[BTreeSet<String>]) -> Vec<String> {
    let level_of = |module: &str| levels.iter().position(|l| l.contains(module));
    let mut problems = Vec::new();
    for top in graph.modules.iter().filter(|m| m.len() == 1) {
        if level_of(&top[0]).is_none() {
            problems.push(format!(
                "{krate}: module `{}` has no place in the layer order",
                top[0]
            ));
        }
    }
    let mut seen = BTreeSet::new();
    for ((from, to), files) in &graph.edges {
        if from.is_empty() || to.is_empty() || from[0] == to[0] {
            continue;
        }
        let (Some(a), Some(b)) = (level_of(&from[0]), level_of(&to[0])) else {
            continue;
        };
        if a > b && seen.insert((from[0].clone(), to[0].clone())) {
            problems.push(format!(
                "{krate}: `{}` imports `{}`, a higher layer (in {})",
                from[0],
                to[0],
                files.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
    }
    problems
}

/// `LAYERS_PRINT=1 cargo test --test layers -- --nocapture`: each top-level module and what
/// it imports, to place a new module in the order.
fn print_top_level(krate: &str, graph: &CrateGraph) {
    let mut imports: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (from, to) in graph.edges.keys() {
        if let (Some(a), Some(b)) = (from.first(), to.first())
            && a != b
        {
            imports.entry(a).or_default().insert(b);
        }
    }
    for (module, targets) in imports {
        println!(
            "{krate}: {module} -> {}",
            targets.into_iter().collect::<Vec<_>>().join(" ")
        );
    }
}

/// The check itself: a circle between two files and an import against the order are found,
/// through a re-export, and test-only code is not counted.
#[test]
fn the_check_finds_circles_and_upward_imports() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    let write = |path: &str, text: &str| {
        let path = src.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "lib.rs",
        "pub mod low;\npub mod high;\npub use low::Thing;\n",
    );
    write("high/mod.rs", "mod a;\nmod b;\n");
    write("high/a.rs", "use super::b::B;\npub struct A;\n");
    write(
        "high/b.rs",
        "pub struct B;\nfn f() { let _ = super::a::A; }\n",
    );
    write(
        "low.rs",
        "pub struct Thing;\nfn g() { let _ = crate::high::a::A; }\n\
         #[cfg(test)]\nmod tests { use crate::high::b::B; }\n",
    );
    let graph = crate_graph(src);
    let found = circles("demo", &graph);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("import circle in demo::high: a, b"),
        "{found:?}"
    );
    let order = layer_order("```layers\ndemo: high > low\n```\n");
    assert!(
        upward_imports("demo", &graph, &order["demo"])
            .iter()
            .any(|p| p.contains("`low` imports `high`"))
    );
    let fine = layer_order("```layers\ndemo: low > high\n```\n");
    assert!(upward_imports("demo", &graph, &fine["demo"]).is_empty());
    // A path through the crate root's re-export lands in the module that defines it.
    write(
        "high/b.rs",
        "pub struct B;\nfn f() { let _ = crate::Thing; }\n",
    );
    write("low.rs", "pub struct Thing;\n");
    let graph = crate_graph(src);
    assert!(circles("demo", &graph).is_empty());
    assert!(graph.edges.contains_key(&(
        vec!["high".to_string(), "b".to_string()],
        vec!["low".to_string()]
    )));
}
