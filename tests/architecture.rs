//! The house rules of ARCHITECTURE.md, checked on the source tree:
//! the crates depend on what they may (the core on no database, runtime or
//! driver; only the store on rusqlite and the city database on
//! tokio-postgres; the drivers on no greenwave crate),
//! the top-level modules of each crate form no cycle, and no function
//! outside tests is longer than 100 lines.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `[dependencies]` of a crate's Cargo.toml.
fn dependencies(manifest: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(root().join(manifest)).unwrap();
    let doc: toml::Table = toml::from_str(&text).unwrap();
    doc.get("dependencies")
        .and_then(|d| d.as_table())
        .map(|t| t.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn each_crate_depends_only_on_what_its_rules_allow() {
    let core = dependencies("core/Cargo.toml");
    for banned in [
        "rusqlite",
        "tokio",
        "greenwave-drivers",
        "greenwave-store",
        "axum",
    ] {
        assert!(!core.contains(banned), "greenwave-core depends on {banned}");
    }
    let store = dependencies("store/Cargo.toml");
    assert!(store.contains("rusqlite"));
    for banned in ["tokio", "greenwave-drivers", "axum"] {
        assert!(
            !store.contains(banned),
            "greenwave-store depends on {banned}"
        );
    }
    let citydb = dependencies("citydb/Cargo.toml");
    assert!(citydb.contains("tokio-postgres"));
    for banned in [
        "rusqlite",
        "greenwave-core",
        "greenwave-store",
        "greenwave-drivers",
        "axum",
    ] {
        assert!(
            !citydb.contains(banned),
            "greenwave-citydb depends on {banned}"
        );
    }
    let main = dependencies("Cargo.toml");
    for sql in ["rusqlite", "tokio-postgres", "postgres", "sqlx"] {
        assert!(
            !main.contains(sql),
            "only greenwave-store and greenwave-citydb may speak SQL; the main crate depends on {sql}"
        );
    }
    let drivers = dependencies("drivers/Cargo.toml");
    for d in &drivers {
        assert!(!d.starts_with("greenwave"), "the drivers depend on {d}");
    }
    for banned in ["tokio", "rusqlite"] {
        assert!(!drivers.contains(banned), "the drivers depend on {banned}");
    }
}

/// Comments, strings and character literals blanked out (newlines kept),
/// so that braces and paths in them do not count.
fn strip(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    let blank = |out: &mut Vec<u8>, s: &[u8]| {
        out.extend(s.iter().map(|&c| if c == b'\n' { b'\n' } else { b' ' }))
    };
    while i < b.len() {
        let rest = &b[i..];
        if rest.starts_with(b"//") {
            let j = rest.iter().position(|&c| c == b'\n').unwrap_or(rest.len());
            blank(&mut out, &rest[..j]);
            i += j;
        } else if rest.starts_with(b"/*") {
            let j = find(rest, b"*/").map_or(rest.len(), |j| j + 2);
            blank(&mut out, &rest[..j]);
            i += j;
        } else if rest[0] == b'r'
            && (rest.starts_with(b"r\"") || rest.starts_with(b"r#"))
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_'))
        {
            let hashes = rest[1..].iter().take_while(|&&c| c == b'#').count();
            if rest.get(1 + hashes) != Some(&b'"') {
                out.push(rest[0]);
                i += 1;
                continue;
            }
            let mut end = vec![b'"'];
            end.extend(std::iter::repeat_n(b'#', hashes));
            let start = 2 + hashes;
            let j = find(&rest[start..], &end).map_or(rest.len(), |j| start + j + end.len());
            blank(&mut out, &rest[..j]);
            i += j;
        } else if rest[0] == b'"' {
            let mut j = 1;
            while j < rest.len() && rest[j] != b'"' {
                j += if rest[j] == b'\\' { 2 } else { 1 };
            }
            let j = (j + 1).min(rest.len());
            blank(&mut out, &rest[..j]);
            i += j;
        } else if rest[0] == b'\'' && char_literal(rest) > 0 {
            let j = char_literal(rest);
            blank(&mut out, &rest[..j]);
            i += j;
        } else {
            out.push(rest[0]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The length of a character literal at the start of `s` (0: not one,
/// e.g. a lifetime).
fn char_literal(s: &[u8]) -> usize {
    if s.len() >= 4 && s[1] == b'\\' {
        return s[2..].iter().position(|&c| c == b'\'').map_or(0, |p| p + 3);
    }
    // One UTF-8 character, then a quote.
    let width = match s.get(1) {
        Some(&c) if c < 0x80 => 1,
        Some(&c) if c >= 0xF0 => 4,
        Some(&c) if c >= 0xE0 => 3,
        Some(_) => 2,
        None => return 0,
    };
    if s.get(1 + width) == Some(&b'\'') {
        width + 2
    } else {
        0
    }
}

/// The text with `#[cfg(test)] mod ... { ... }` blocks removed.
fn without_tests(src: &str) -> String {
    let mut out = String::new();
    let mut rest = src;
    while let Some(at) = rest.find("#[cfg(test)]") {
        let after = &rest[at..];
        let is_mod = after["#[cfg(test)]".len()..]
            .trim_start()
            .trim_start_matches("pub ")
            .starts_with("mod ");
        let Some(open) = after.find('{').filter(|_| is_mod) else {
            out.push_str(&rest[..at + "#[cfg(test)]".len()]);
            rest = &rest[at + "#[cfg(test)]".len()..];
            continue;
        };
        out.push_str(&rest[..at]);
        let mut depth = 0;
        let mut end = after.len();
        for (k, c) in after[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + k + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        // Keep the line count.
        out.extend(after[..end].chars().filter(|&c| c == '\n'));
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// Each top-level module of the crate in `src` and the modules it names
/// through `crate::`.
fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for f in rust_files(src) {
        let rel = f.strip_prefix(src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let module = first.trim_end_matches(".rs").to_string();
        if module == "lib" || module == "main" {
            continue;
        }
        files.entry(module).or_default().push(f);
    }
    let names: BTreeSet<String> = files.keys().cloned().collect();
    files
        .iter()
        .map(|(m, fs)| {
            let mut deps = BTreeSet::new();
            for f in fs {
                let text = without_tests(&strip(&std::fs::read_to_string(f).unwrap()));
                for (i, _) in text.match_indices("crate::") {
                    let name: String = text[i + 7..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if names.contains(&name) && &name != m {
                        deps.insert(name);
                    }
                }
            }
            (m.clone(), deps)
        })
        .collect()
}

/// A cycle of the graph, if there is one.
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == n) {
            let mut c = path[at..].to_vec();
            c.push(n.to_string());
            return Some(c);
        }
        if done.contains(n) {
            return None;
        }
        path.push(n.to_string());
        for d in g.get(n).into_iter().flatten() {
            if let Some(c) = visit(d, g, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

#[test]
fn no_crate_has_a_cycle_among_its_modules() {
    for src in ["src", "drivers/src", "store/src", "citydb/src", "core/src"] {
        let graph = module_graph(&root().join(src));
        assert_eq!(cycle(&graph), None, "a module cycle in {src}: {graph:#?}");
    }
}

#[test]
fn the_cycle_finder_finds_a_cycle() {
    let g: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec![]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
    .collect();
    assert_eq!(
        cycle(&g),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
}

/// `(lines, name, line)` of every function body in `src` (tests removed).
fn functions(src: &str) -> Vec<(usize, String, usize)> {
    let text = without_tests(&strip(src));
    let b = text.as_bytes();
    let mut out = Vec::new();
    for (i, _) in text.match_indices("fn ") {
        if i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_') {
            continue;
        }
        let name: String = text[i + 3..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if name.is_empty() {
            continue;
        }
        let Some(k) = text[i..].find(['{', ';']).map(|k| i + k) else {
            continue;
        };
        if b[k] == b';' {
            continue;
        }
        let mut depth = 0;
        let mut end = text.len();
        for (j, &c) in b.iter().enumerate().skip(k) {
            match c {
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = j;
                        break;
                    }
                }
                _ => {}
            }
        }
        let lines = text[k..end].matches('\n').count() + 1;
        out.push((lines, name, text[..i].matches('\n').count() + 1));
    }
    out
}

#[test]
fn no_function_outside_tests_is_longer_than_100_lines() {
    let mut long = Vec::new();
    for src in ["src", "drivers/src", "store/src", "citydb/src", "core/src"] {
        for f in rust_files(&root().join(src)) {
            let text = std::fs::read_to_string(&f).unwrap();
            for (lines, name, line) in functions(&text) {
                if lines > 100 {
                    let rel = f.strip_prefix(root()).unwrap().display().to_string();
                    long.push(format!("{lines} {rel}:{line} {name}"));
                }
            }
        }
    }
    assert!(
        long.is_empty(),
        "functions over 100 lines:\n{}",
        long.join("\n")
    );
}

#[test]
fn the_length_counter_counts_bodies_not_strings() {
    let src = "fn a() {\n    let s = \"}\";\n    x();\n}\n\n#[cfg(test)]\nmod tests {\n    fn t() {\n    }\n}\nfn b() { c('}') }\n";
    let f = functions(src);
    assert_eq!(f, vec![(4, "a".to_string(), 1), (1, "b".to_string(), 11)]);
}
