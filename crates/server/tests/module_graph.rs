//! The discovery crate's top-level modules depend on each other without a cycle: every
//! `crate::MODULE` a module's code names (comments aside) is an edge, and the graph must be a DAG.
//! Small shared things live in leaf modules (`connection`, `clock`, `request_scope`, ...), not in
//! hubs that import each other.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src directory").flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without its comments (line comments, doc comments, block comments).
fn code_of(text: &str) -> String {
    let mut code = String::new();
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("//") {
            rest = after.find('\n').map_or("", |end| &after[end..]);
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.find("*/").map_or("", |end| &after[end + 2..]);
        } else if rest.starts_with('"') {
            // Strings are kept whole (they may hold `//`); escapes skipped pairwise.
            let mut chars = rest.char_indices().skip(1);
            let mut end = rest.len();
            while let Some((i, c)) = chars.next() {
                if c == '\\' {
                    chars.next();
                } else if c == '"' {
                    end = i + 1;
                    break;
                }
            }
            code.push_str(&rest[..end]);
            rest = &rest[end..];
        } else {
            let c = rest.chars().next().unwrap_or(' ');
            code.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    code
}

/// Names of the modules `code` refers to as `crate::NAME` or inside `crate::{NAME, ...}`.
fn referenced(code: &str) -> BTreeSet<String> {
    let word = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut names = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        let after = &code[i + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            for item in group.split(',') {
                let name = word(item.trim());
                if !name.is_empty() {
                    names.insert(name);
                }
            }
        } else {
            names.insert(word(after));
        }
    }
    names
}

#[test]
fn top_level_modules_have_no_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let relative = file.strip_prefix(&src).expect("under src");
        let top = relative
            .components()
            .next()
            .map(|c| {
                c.as_os_str()
                    .to_string_lossy()
                    .trim_end_matches(".rs")
                    .to_string()
            })
            .unwrap_or_default();
        if top == "lib" {
            continue;
        }
        let code = code_of(&std::fs::read_to_string(file).expect("readable source"));
        let edges = graph.entry(top.clone()).or_default();
        edges.extend(referenced(&code).into_iter().filter(|m| *m != top));
    }
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for edges in graph.values_mut() {
        edges.retain(|m| modules.contains(m));
    }
    assert!(
        graph.len() > 20,
        "expected the server's modules, found {graph:?}"
    );

    // Depth-first search; a grey node met again closes a cycle.
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        colour: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        colour.insert(node.to_string(), 1);
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            match colour.get(next).copied().unwrap_or(0) {
                1 => {
                    let start = path.iter().position(|m| m == next).unwrap_or(0);
                    let mut cycle = path[start..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(cycle) = visit(next, graph, colour, path) {
                        return Some(cycle);
                    }
                }
                _ => {}
            }
        }
        path.pop();
        colour.insert(node.to_string(), 2);
        None
    }
    let mut colour = BTreeMap::new();
    for module in graph.keys() {
        if colour.get(module).copied().unwrap_or(0) == 0
            && let Some(cycle) = visit(module, &graph, &mut colour, &mut Vec::new())
        {
            panic!(
                "expected no cycle among the server's modules; found {}",
                cycle.join(" -> ")
            );
        }
    }
}

#[test]
fn the_reader_sees_through_comments_and_groups() {
    let code = code_of(
        "use crate::{a, b::c};\n// crate::commented\n/* crate::blocked */ let s = \"// crate::x\"; crate::d::e();",
    );
    assert_eq!(
        referenced(&code).into_iter().collect::<Vec<_>>(),
        ["a", "b", "d", "x"]
    );
}

#[test]
fn the_discovery_crate_has_no_template_engine_or_schema_generator() {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
            .expect("Cargo.toml");
    for dependency in ["askama", "schemars", "signpost-admin"] {
        assert!(
            !manifest
                .lines()
                .any(|l| l.trim_start().starts_with(dependency)),
            "expected no {dependency} among the server's dependencies"
        );
    }
}
