//! The structure ARCHITECTURE.md describes, checked against the code: no import cycle between
//! two of our files (re-exports followed to the file that defines a name, inline `crate::` and
//! `super::` paths counted as imports), the top-level modules importing only as
//! ARCHITECTURE.md's layer table says (from lower layers, or from modules listed before them in
//! their own layer; the leaves from nothing of ours), files of at most 700 lines, and no
//! function over 120 lines without a comment that says why it must be one.
//!
//! The code is read with `syn`, as the compiler's parser reads it; nothing is run.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// The longest a source file may be.
const MAX_FILE_LINES: usize = 700;
/// The longest a function may be without a comment saying why it must be one.
const MAX_FUNCTION_LINES: usize = 120;
/// How that comment starts, on a line of its own just above the function.
const LONG_FUNCTION_REASON: &str = "// One function:";

/// One source file of the library.
struct Source {
    /// Relative to the crate root (`src/render/engine.rs`).
    path: String,
    /// Its module path (`crate::render::engine`).
    module: Vec<String>,
    text: String,
    ast: syn::File,
}

/// Every file of `src/` but the binary's `main.rs`, which only calls the library.
fn sources() -> Vec<Source> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    collect(&root.join("src"), &mut files);
    files.sort();
    files
        .into_iter()
        .filter(|p| !p.ends_with("src/main.rs"))
        .map(|p| {
            let rel = p
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let text = std::fs::read_to_string(&p).unwrap();
            let ast = syn::parse_file(&text).unwrap_or_else(|e| panic!("{rel}: {e}"));
            Source {
                module: module_of(&rel),
                path: rel,
                text,
                ast,
            }
        })
        .collect()
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/lib.rs` is `crate`, `src/a.rs` and `src/a/mod.rs` are `crate::a`, `src/a/b.rs` is
/// `crate::a::b`.
fn module_of(rel: &str) -> Vec<String> {
    let inner = rel
        .strip_prefix("src/")
        .unwrap()
        .strip_suffix(".rs")
        .unwrap();
    let mut module = vec!["crate".to_string()];
    module.extend(inner.split('/').map(String::from));
    if matches!(module.last().map(String::as_str), Some("lib" | "mod")) {
        module.pop();
    }
    module
}

/// What each file defines and brings into scope, so a path can be followed to the file that
/// defines its name.
struct Index {
    /// Module path to file.
    modules: HashMap<Vec<String>, usize>,
    /// Per file, the names its own items define.
    defined: Vec<BTreeSet<String>>,
    /// Per file, the names its `use` declarations bring in, with the absolute path of each.
    imported: Vec<BTreeMap<String, Vec<String>>>,
}

impl Index {
    fn new(sources: &[Source]) -> Index {
        let modules: HashMap<Vec<String>, usize> = sources
            .iter()
            .enumerate()
            .map(|(i, s)| (s.module.clone(), i))
            .collect();
        let mut defined = Vec::new();
        let mut imported = Vec::new();
        for source in sources {
            let mut names = BTreeSet::new();
            let mut uses = BTreeMap::new();
            for item in &source.ast.items {
                if let Some(name) = item_name(item) {
                    names.insert(name);
                }
                if let syn::Item::Use(u) = item {
                    for (name, path) in use_paths(&u.tree, Vec::new()) {
                        let absolute = absolute(&source.module, &path, &modules);
                        if let (Some(name), Some(absolute)) = (name, absolute) {
                            uses.insert(name, absolute);
                        }
                    }
                }
            }
            defined.push(names);
            imported.push(uses);
        }
        Index {
            modules,
            defined,
            imported,
        }
    }

    /// The file that defines what the absolute path `path` names (`None`: not ours).
    fn resolve(&self, path: &[String], depth: usize) -> Option<usize> {
        if path.first().map(String::as_str) != Some("crate") || depth > 16 {
            return None;
        }
        let (len, &file) = (1..=path.len())
            .rev()
            .find_map(|len| self.modules.get(&path[..len]).map(|f| (len, f)))?;
        let Some(name) = path.get(len) else {
            return Some(file);
        };
        if self.defined[file].contains(name) {
            return Some(file);
        }
        match self.imported[file].get(name) {
            Some(target) => {
                let mut next = target.clone();
                next.extend(path[len + 1..].iter().cloned());
                self.resolve(&next, depth + 1).or(Some(file))
            }
            None => Some(file),
        }
    }
}

/// The name an item defines at the top of its file.
fn item_name(item: &syn::Item) -> Option<String> {
    let ident = match item {
        syn::Item::Const(i) => &i.ident,
        syn::Item::Enum(i) => &i.ident,
        syn::Item::Fn(i) => &i.sig.ident,
        syn::Item::Mod(i) => &i.ident,
        syn::Item::Static(i) => &i.ident,
        syn::Item::Struct(i) => &i.ident,
        syn::Item::Trait(i) => &i.ident,
        syn::Item::Type(i) => &i.ident,
        syn::Item::Union(i) => &i.ident,
        syn::Item::Macro(i) => i.ident.as_ref()?,
        _ => return None,
    };
    Some(ident.to_string())
}

/// Every path a `use` tree names, each with the name it brings into scope (`None` for a glob).
fn use_paths(tree: &syn::UseTree, prefix: Vec<String>) -> Vec<(Option<String>, Vec<String>)> {
    let with = |ident: &syn::Ident| {
        let mut p = prefix.clone();
        p.push(ident.to_string());
        p
    };
    match tree {
        syn::UseTree::Path(p) => use_paths(&p.tree, with(&p.ident)),
        syn::UseTree::Name(n) if n.ident == "self" => {
            vec![(prefix.last().cloned(), prefix.clone())]
        }
        syn::UseTree::Name(n) => vec![(Some(n.ident.to_string()), with(&n.ident))],
        syn::UseTree::Rename(r) => vec![(Some(r.rename.to_string()), with(&r.ident))],
        syn::UseTree::Glob(_) => vec![(None, prefix)],
        syn::UseTree::Group(g) => g
            .items
            .iter()
            .flat_map(|t| use_paths(t, prefix.clone()))
            .collect(),
    }
}

/// `path`, written in module `module`, as an absolute `crate::` path; `None` for another
/// crate's path.
fn absolute(
    module: &[String],
    path: &[String],
    modules: &HashMap<Vec<String>, usize>,
) -> Option<Vec<String>> {
    let first = path.first()?;
    let mut base: Vec<String> = match first.as_str() {
        "crate" => return Some(path.to_vec()),
        "self" => module.to_vec(),
        "super" => module.to_vec(),
        _ => {
            // A child module of this one, named without `self::` (2018 paths).
            let mut child = module.to_vec();
            child.push(first.clone());
            return modules.contains_key(&child).then(|| {
                let mut p = module.to_vec();
                p.extend(path.iter().cloned());
                p
            });
        }
    };
    let mut rest = path;
    while let Some(first) = rest.first() {
        match first.as_str() {
            "self" => {}
            "super" => {
                base.pop();
            }
            _ => break,
        }
        rest = &rest[1..];
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

/// Every import of one file: its `use` declarations and the `crate::`/`super::` paths written
/// inline, each with the module it is written in (inline modules such as `mod tests` count).
struct Imports<'a> {
    module: Vec<String>,
    modules: &'a HashMap<Vec<String>, usize>,
    paths: Vec<Vec<String>>,
}

impl<'ast> Visit<'ast> for Imports<'_> {
    fn visit_item_mod(&mut self, i: &'ast syn::ItemMod) {
        if i.content.is_some() {
            self.module.push(i.ident.to_string());
            syn::visit::visit_item_mod(self, i);
            self.module.pop();
        }
    }

    fn visit_item_use(&mut self, i: &'ast syn::ItemUse) {
        for (_, path) in use_paths(&i.tree, Vec::new()) {
            if let Some(path) = absolute(&self.module, &path, self.modules) {
                self.paths.push(path);
            }
        }
    }

    // `pub(crate)` and `pub(super)` name a module to limit visibility, not to import from it.
    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {}

    fn visit_path(&mut self, i: &'ast syn::Path) {
        let segments: Vec<String> = i.segments.iter().map(|s| s.ident.to_string()).collect();
        if matches!(
            segments.first().map(String::as_str),
            Some("crate" | "super" | "self")
        ) && let Some(path) = absolute(&self.module, &segments, self.modules)
        {
            self.paths.push(path);
        }
        syn::visit::visit_path(self, i);
    }
}

/// Per file, the files it imports from, each with the names that tie them.
fn file_graph(sources: &[Source]) -> Vec<BTreeMap<usize, BTreeSet<String>>> {
    let index = Index::new(sources);
    sources
        .iter()
        .enumerate()
        .map(|(i, source)| {
            let mut imports = Imports {
                module: source.module.clone(),
                modules: &index.modules,
                paths: Vec::new(),
            };
            imports.visit_file(&source.ast);
            let mut edges: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
            for path in imports.paths {
                if let Some(target) = index.resolve(&path, 0).filter(|t| *t != i) {
                    edges
                        .entry(target)
                        .or_default()
                        .insert(path.last().cloned().unwrap_or_default());
                }
            }
            edges
        })
        .collect()
}

/// The strongly connected parts of a graph with more than one node (Tarjan's algorithm).
fn cycles(edges: &[BTreeSet<usize>]) -> Vec<Vec<usize>> {
    struct State<'a> {
        edges: &'a [BTreeSet<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        found: Vec<Vec<usize>>,
    }
    fn visit(s: &mut State<'_>, v: usize) {
        s.index[v] = Some(s.next);
        s.low[v] = s.next;
        s.next += 1;
        s.stack.push(v);
        s.on_stack[v] = true;
        for &w in s.edges[v].iter() {
            match s.index[w] {
                None => {
                    visit(s, w);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(i) if s.on_stack[w] => s.low[v] = s.low[v].min(i),
                Some(_) => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            let mut part = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack[w] = false;
                part.push(w);
                if w == v {
                    break;
                }
            }
            if part.len() > 1 {
                part.sort();
                s.found.push(part);
            }
        }
    }
    let n = edges.len();
    let mut state = State {
        edges,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        found: Vec::new(),
    };
    for v in 0..n {
        if state.index[v].is_none() {
            visit(&mut state, v);
        }
    }
    state.found
}

/// The top-level module a file belongs to (`render` for `src/render/engine.rs`; `crate` for
/// `src/lib.rs`).
fn top(source: &Source) -> &str {
    source.module.get(1).map_or("crate", String::as_str)
}

/// A module's place in ARCHITECTURE.md's layer table: its layer, and its position in its row.
type Place = (u32, usize);

/// The layer table of ARCHITECTURE.md: `| N | `a`, `b` | … |` rows under `## Layers`.
fn layers() -> BTreeMap<String, Place> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md");
    let text = std::fs::read_to_string(path).unwrap();
    let section = text
        .split("\n## Layers")
        .nth(1)
        .expect("ARCHITECTURE.md has a `## Layers` section");
    let section = section.split("\n## ").next().unwrap();
    let mut layers = BTreeMap::new();
    for line in section.lines().filter(|l| l.starts_with('|')) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let Ok(layer) = cells[1].parse::<u32>() else {
            continue;
        };
        for (position, module) in cells[2].split(',').enumerate() {
            let module = module.trim().trim_matches('`');
            assert!(
                layers
                    .insert(module.to_string(), (layer, position))
                    .is_none(),
                "ARCHITECTURE.md names `{module}` in two layers"
            );
        }
    }
    layers
}

#[test]
fn no_two_files_import_each_other_even_through_others() {
    let sources = sources();
    let graph = file_graph(&sources);
    let edges: Vec<BTreeSet<usize>> = graph.iter().map(|e| e.keys().copied().collect()).collect();
    let found = cycles(&edges);
    let described: Vec<String> = found
        .iter()
        .map(|part| {
            let ties: Vec<String> = part
                .iter()
                .flat_map(|&a| {
                    graph[a]
                        .iter()
                        .filter(|(b, _)| part.contains(b))
                        .map(move |(&b, names)| (a, b, names))
                })
                .map(|(a, b, names)| {
                    let names: Vec<&str> = names.iter().map(String::as_str).collect();
                    format!(
                        "{} -> {}: {}",
                        sources[a].path,
                        sources[b].path,
                        names.join(", ")
                    )
                })
                .collect();
            ties.join("\n  ")
        })
        .collect();
    assert!(
        found.is_empty(),
        "import cycles between files (move the type that ties them, not the code that uses it):\n  {}",
        described.join("\n\n  ")
    );
    // The reading is not vacuous: the graph holds the imports it should.
    let file = |p: &str| sources.iter().position(|s| s.path == p).unwrap();
    assert!(graph[file("src/render/inprocess.rs")].contains_key(&file("src/render/finish.rs")));
    assert!(
        graph[file("src/distributed/pool.rs")].contains_key(&file("src/render/finish.rs")),
        "a re-export (render::finish) is followed to the file that defines it"
    );
    assert!(
        graph[file("src/regress/run.rs")].contains_key(&file("src/regress/bless.rs")),
        "a `super::` path counts"
    );
}

#[test]
fn every_module_imports_only_as_the_layer_table_says() {
    let sources = sources();
    let graph = file_graph(&sources);
    let layers = layers();
    let mut unplaced = BTreeSet::new();
    let mut upward = BTreeSet::new();
    for (i, edges) in graph.iter().enumerate() {
        let from = top(&sources[i]);
        if from == "crate" {
            continue;
        }
        let Some(&(from_layer, from_position)) = layers.get(from) else {
            unplaced.insert(from.to_string());
            continue;
        };
        for (&j, names) in edges {
            let to = top(&sources[j]);
            if to == from || to == "crate" {
                continue;
            }
            let (to_layer, to_position) = layers.get(to).copied().unwrap_or((u32::MAX, 0));
            // The leaves (layer 0) import nothing of ours; any other module imports from lower
            // layers, or from a module before it in its own layer's row.
            let allowed = from_layer > 0
                && (to_layer < from_layer
                    || (to_layer == from_layer && to_position < from_position));
            if !allowed {
                upward.insert(format!(
                    "{} (`{from}`, layer {from_layer}) imports {} from {} (`{to}`, layer {to_layer})",
                    sources[i].path,
                    names.iter().cloned().collect::<Vec<_>>().join(", "),
                    sources[j].path,
                ));
            }
        }
    }
    assert!(
        unplaced.is_empty(),
        "modules ARCHITECTURE.md's layer table does not place: {unplaced:?}"
    );
    let named: BTreeSet<&str> = sources.iter().map(top).collect();
    for module in layers.keys() {
        assert!(
            named.contains(module.as_str()),
            "ARCHITECTURE.md places `{module}`, which does not exist"
        );
    }
    assert!(
        upward.is_empty(),
        "imports against the layers of ARCHITECTURE.md:\n  {}",
        upward.into_iter().collect::<Vec<_>>().join("\n  ")
    );
}

#[test]
fn files_and_functions_stay_short_enough_to_read() {
    let mut long = Vec::new();
    for source in sources() {
        let lines = source.text.lines().count();
        if lines > MAX_FILE_LINES {
            long.push(format!("{}: {lines} lines", source.path));
        }
        let mut functions = Functions(Vec::new());
        functions.visit_file(&source.ast);
        let text: Vec<&str> = source.text.lines().collect();
        for (name, first, last) in functions.0 {
            let length = last - first + 1;
            // The reason sits on the lines just above the signature, among its doc comment
            // and attributes.
            let reasoned = text[..first - 1]
                .iter()
                .rev()
                .take_while(|l| {
                    let l = l.trim_start();
                    l.starts_with("//") || l.starts_with("#[")
                })
                .any(|l| l.trim_start().starts_with(LONG_FUNCTION_REASON));
            if length > MAX_FUNCTION_LINES && !reasoned {
                long.push(format!(
                    "{}:{first} `{name}`: {length} lines, and no `{LONG_FUNCTION_REASON}` comment above it",
                    source.path
                ));
            }
        }
    }
    assert!(long.is_empty(), "too long:\n  {}", long.join("\n  "));
}

/// Every function and method with its first and last line.
struct Functions(Vec<(String, usize, usize)>);

impl<'ast> Visit<'ast> for Functions {
    fn visit_item_fn(&mut self, i: &'ast syn::ItemFn) {
        self.0.push((
            i.sig.ident.to_string(),
            i.sig.fn_token.span.start().line,
            i.block.brace_token.span.close().end().line,
        ));
        syn::visit::visit_item_fn(self, i);
    }

    fn visit_impl_item_fn(&mut self, i: &'ast syn::ImplItemFn) {
        self.0.push((
            i.sig.ident.to_string(),
            i.sig.fn_token.span.start().line,
            i.block.brace_token.span.close().end().line,
        ));
        syn::visit::visit_impl_item_fn(self, i);
    }
}

#[test]
fn a_mod_rs_only_declares_and_reexports() {
    let mut logic = Vec::new();
    for source in sources() {
        if !(source.path.ends_with("/mod.rs") || source.path == "src/lib.rs") {
            continue;
        }
        for item in &source.ast.items {
            let declares = match item {
                syn::Item::Use(_) => true,
                syn::Item::Mod(m) => m.content.is_none(),
                _ => false,
            };
            if !declares {
                logic.push(format!(
                    "{}: {}",
                    source.path,
                    item_name(item).unwrap_or_else(|| "an item".into())
                ));
            }
        }
    }
    assert!(
        logic.is_empty(),
        "items other than `mod` and `use` (move them into a file named for what they are):\n  {}",
        logic.join("\n  ")
    );
}
