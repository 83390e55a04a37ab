//! The layers hold: no module of the appliance mentions one it must not import, and the modules
//! import one another without a cycle. The forbidden edges are the table in `DESIGN.md`
//! ("Layers"), read from there, so the picture and the check cannot drift apart.
//!
//! Every `crate::M` in a file under `src/M/` (or `src/M.rs`) counts: `use` lines, paths in code,
//! doc links and comments alike, tests included, because each is a dependency a reader follows.
//! So does every path into a leaf crate: `picket_image::` counts as the module `image`,
//! `picket_runtime::` as `runtime` and `picket_geom::` as `geom`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One mention of another module: the file and line, the importing and imported module.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Edge {
    file: PathBuf,
    line: usize,
    from: String,
    to: String,
}

/// The forbidden edges of the table between the markers in `design`: module → modules.
fn forbidden(design: &str) -> BTreeMap<String, BTreeSet<String>> {
    let start = "<!-- layers: begin -->";
    let end = "<!-- layers: end -->";
    let body = design
        .split_once(start)
        .and_then(|(_, rest)| rest.split_once(end))
        .map(|(table, _)| table)
        .expect("DESIGN.md has no layers table between its markers");
    let mut out = BTreeMap::new();
    for row in body.lines().filter(|l| l.starts_with('|')) {
        let cells: Vec<&str> = row.trim_matches('|').split('|').map(str::trim).collect();
        let [module, banned] = cells[..] else {
            continue;
        };
        let module = module.trim_matches('`');
        if module.is_empty() || module.starts_with('-') || module == "module" {
            continue;
        }
        let banned = banned
            .split(',')
            .map(|m| m.trim().trim_matches('`').to_owned())
            .filter(|m| !m.is_empty());
        out.insert(module.to_owned(), banned.collect());
    }
    out
}

/// Every `crate::M` mention in the `.rs` files under `src`, by the top module of the file.
fn edges(src: &Path) -> Vec<Edge> {
    let mut files = Vec::new();
    walk(src, &mut files);
    let mut out = Vec::new();
    for file in files {
        let rel = file.strip_prefix(src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let from = first.trim_end_matches(".rs").to_owned();
        if from == "lib" || from == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for (i, line) in text.lines().enumerate() {
            let crates = ["image", "runtime", "geom"].into_iter().flat_map(|c| {
                let path = format!("picket_{c}::");
                let found: Vec<usize> = line.match_indices(&path).map(|(at, _)| at).collect();
                found.into_iter().map(move |at| (at, c.to_owned()))
            });
            let modules = line.match_indices("crate::").filter_map(|(at, _)| {
                // `picket_image::` ends in `image::`, not `crate::`; skip `xcrate::`-like words.
                let word_start =
                    at == 0 || !line[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_');
                let name: String = line[at + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                (word_start && !name.is_empty()).then_some((at, name))
            });
            for (_, to) in modules.chain(crates) {
                if to != from {
                    out.push(Edge {
                        file: rel.to_owned(),
                        line: i + 1,
                        from: from.clone(),
                        to,
                    });
                }
            }
        }
    }
    out.sort();
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The mentions that break a rule, one line each.
fn violations(edges: &[Edge], rules: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    edges
        .iter()
        .filter(|e| rules.get(&e.from).is_some_and(|b| b.contains(&e.to)))
        .map(|e| {
            format!(
                "src/{}:{}: {} must not import {}",
                e.file.display(),
                e.line,
                e.from,
                e.to
            )
        })
        .collect()
}

/// A cycle among the modules, as `a → b → … → a`, if there is one.
fn cycle(edges: &[Edge]) -> Option<Vec<String>> {
    let mut graph: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for e in edges {
        graph.entry(&e.from).or_default().insert(&e.to);
    }
    fn visit<'a>(
        n: &'a str,
        graph: &BTreeMap<&'a str, BTreeSet<&'a str>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|&p| p == n) {
            let mut c: Vec<String> = path[i..].iter().map(|s| s.to_string()).collect();
            c.push(n.to_owned());
            return Some(c);
        }
        if !done.insert(n) {
            return None;
        }
        path.push(n);
        for &m in graph.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(n, &graph, &mut Vec::new(), &mut done))
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn no_module_imports_a_layer_it_must_not() {
    let design = std::fs::read_to_string(root().join("DESIGN.md")).unwrap();
    let rules = forbidden(&design);
    assert!(
        rules.len() >= 8,
        "the layers table lists too few modules: {rules:?}"
    );
    let found = violations(&edges(&root().join("src")), &rules);
    assert!(found.is_empty(), "forbidden imports:\n{}", found.join("\n"));
}

#[test]
fn the_modules_import_one_another_without_a_cycle() {
    let c = cycle(&edges(&root().join("src")));
    assert!(
        c.is_none(),
        "import cycle: {}",
        c.unwrap_or_default().join(" → ")
    );
}

/// The check itself can fail: a small tree in which `alarm` names `rules` (in a doc link) and
/// `rules` names `alarm` is reported for both, at the right lines, and as a cycle.
#[test]
fn a_forbidden_edge_in_a_fixture_tree_is_reported() {
    let fixture = root().join("tests/data/architecture/src");
    let rules = forbidden(
        "<!-- layers: begin -->\n| module | must not import |\n|---|---|\n\
         | `alarm` | `rules`, `journal` |\n| `rules` | `alarm` |\n<!-- layers: end -->\n",
    );
    let e = edges(&fixture);
    assert_eq!(
        violations(&e, &rules),
        [
            "src/alarm/mod.rs:4: alarm must not import rules",
            "src/rules.rs:3: rules must not import alarm",
        ]
    );
    assert_eq!(
        cycle(&e),
        Some(vec!["alarm".into(), "rules".into(), "alarm".into()])
    );
}
