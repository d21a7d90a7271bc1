//! The module graph's rules (docs/ARCHITECTURE.md, "Layers"), checked on the source text: every
//! `crate::`, `super::` and `self::` path in `src/` (comments left out) is resolved to the file
//! it names; then no import runs from a module to one listed after it in `src/lib.rs`, and no
//! two files import each other, directly or round a longer loop (a folder's `mod.rs` and its
//! own files excepted: they are one module in parts).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// `src/...` files of the library (not the binaries), as module paths: `["api", "routes"]`.
fn library_files(src: &Path) -> BTreeMap<Vec<String>, PathBuf> {
    let mut out = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(src).unwrap().to_path_buf();
            if path.is_dir() {
                if rel != Path::new("bin") {
                    stack.push(path);
                }
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") || rel == Path::new("lib.rs") {
                continue;
            }
            let mut parts: Vec<String> = rel
                .iter()
                .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
                .collect();
            if parts.last().is_some_and(|p| p == "mod") {
                parts.pop();
            }
            out.insert(parts, path);
        }
    }
    out
}

/// The source without comments (a doc link to a higher module is not an import).
fn code_of(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| match l.find("//") {
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every path after `crate::`, `super::` or `self::`, as idents (braces cut the path short:
/// `crate::a::{b, c}` names `a`, which is enough to find the file).
fn paths_in(code: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for start in ["crate::", "super::", "self::"] {
        let mut rest = code;
        while let Some(i) = rest.find(start) {
            let before = rest[..i].chars().next_back();
            let after = &rest[i + start.len()..];
            rest = after;
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let token: String = after
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let idents: Vec<String> = token
                .split("::")
                .map(|s| {
                    s.chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect::<String>()
                })
                .take_while(|s| !s.is_empty())
                .collect();
            out.push((start.trim_end_matches("::").to_string(), idents));
        }
    }
    out
}

/// The file a path names: the longest prefix of it that is a file. `from` is the module path
/// of the file the path is written in (`src/a/b.rs` and `src/a/b/mod.rs` are both `a::b`).
fn resolve(
    files: &BTreeMap<Vec<String>, PathBuf>,
    from: &[String],
    root: &str,
    idents: &[String],
) -> Option<Vec<String>> {
    let mut full = match root {
        "crate" => Vec::new(),
        "self" => from.to_vec(),
        _ => from[..from.len().saturating_sub(1)].to_vec(),
    };
    full.extend(idents.iter().cloned());
    (1..=full.len())
        .rev()
        .map(|n| full[..n].to_vec())
        .find(|p| files.contains_key(p))
}

/// A folder's `mod.rs` and the files directly in it are one module in parts: the parent
/// declares and re-exports its children, the children use the types it defines. Those edges
/// are not counted; every other pair of files is.
fn parent_and_child(a: &[String], b: &[String]) -> bool {
    let is_parent = |p: &[String], c: &[String]| c.len() == p.len() + 1 && c.starts_with(p);
    is_parent(a, b) || is_parent(b, a)
}

struct Graph {
    files: BTreeMap<Vec<String>, PathBuf>,
    edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
}

fn graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = library_files(&src);
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (module, path) in &files {
        for (root, idents) in paths_in(&code_of(path)) {
            if let Some(to) = resolve(&files, module, &root, &idents) {
                if &to != module && !parent_and_child(module, &to) {
                    edges.entry(module.clone()).or_default().insert(to);
                }
            }
        }
    }
    Graph { files, edges }
}

/// `pub mod x;` lines of `src/lib.rs`, in order.
fn layer_order() -> Vec<String> {
    let lib = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs");
    code_of(&lib)
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod "))
        .map(|m| m.trim_end_matches(';').to_string())
        .collect()
}

#[test]
fn no_module_imports_one_listed_after_it_in_lib_rs() {
    let order = layer_order();
    let rank = |m: &str| order.iter().position(|o| o == m);
    let g = graph();
    let mut wrong = Vec::new();
    for (from, tos) in &g.edges {
        for to in tos {
            let (a, b) = (&from[0], &to[0]);
            if a == b {
                continue;
            }
            let (ra, rb) = (rank(a), rank(b));
            assert!(
                ra.is_some() && rb.is_some(),
                "{a} or {b} is not in src/lib.rs"
            );
            if rb > ra {
                wrong.push(format!("{} -> {}", from.join("/"), to.join("/")));
            }
        }
    }
    assert!(
        g.files.len() > 50,
        "the source was read: {} files",
        g.files.len()
    );
    assert!(
        wrong.is_empty(),
        "imports that run back up the layers: {wrong:#?}"
    );
}

#[test]
fn no_two_files_import_each_other_round_any_loop() {
    let g = graph();
    // Tarjan's strongly connected components, iteratively small enough to recurse here.
    struct State<'a> {
        edges: &'a BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        index: BTreeMap<&'a Vec<String>, usize>,
        low: BTreeMap<&'a Vec<String>, usize>,
        stack: Vec<&'a Vec<String>>,
        on_stack: BTreeSet<&'a Vec<String>>,
        circles: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a Vec<String>) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        s.on_stack.insert(v);
        let edges = s.edges;
        for w in edges.get(v).into_iter().flatten() {
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.on_stack.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.join("/"));
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                s.circles.push(component);
            }
        }
    }
    let mut s = State {
        edges: &g.edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        circles: Vec::new(),
    };
    for v in g.files.keys() {
        if !s.index.contains_key(v) {
            visit(&mut s, v);
        }
    }
    assert!(s.circles.is_empty(), "files in a circle: {:#?}", s.circles);
}

#[test]
fn the_checker_reads_paths_and_finds_their_files() {
    let mut files = BTreeMap::new();
    for m in [vec!["a".to_string()], vec!["b".to_string()]] {
        files.insert(m, PathBuf::from("x.rs"));
    }
    let to_b = resolve(&files, &["a".into()], "crate", &["b".into(), "T".into()]);
    assert_eq!(to_b, Some(vec!["b".to_string()]));
    // In `a/x.rs`, `super::b` is `a::b`, a sibling, not the top-level `b`.
    files.insert(vec!["a".into(), "b".into()], PathBuf::from("a/b.rs"));
    let sibling = resolve(&files, &["a".into(), "x".into()], "super", &["b".into()]);
    assert_eq!(sibling, Some(vec!["a".to_string(), "b".to_string()]));
    let own = resolve(&files, &["a".into()], "self", &["b".into()]);
    assert_eq!(own, Some(vec!["a".to_string(), "b".to_string()]));
    let paths = paths_in("use crate::b::T; fn f() { super::c::g(); } // crate::z");
    assert_eq!(
        paths,
        vec![
            ("crate".to_string(), vec!["b".to_string(), "T".to_string()]),
            ("crate".to_string(), vec!["z".to_string()]),
            ("super".to_string(), vec!["c".to_string(), "g".to_string()]),
        ]
    );
}
