//! Header hygiene: every name `include/appose.h` declares starts with
//! `appose_` or `APPOSE_`, so that including it can never clash with a
//! host's own names. cbindgen emits whatever core type an export mentions;
//! this catches one that slips through (as `typedef struct DType DType;`
//! once did).
//!
//! The scan reads the header's C, not all of C: comments, `#define`s,
//! `#ifdef __cplusplus` blocks, and declarations ending in `;` at the top
//! level, which is all cbindgen writes.
//!
//! Also: the header's list of calls that may block names exactly the
//! functions whose comment says they block.

use std::collections::BTreeSet;
use std::path::Path;

/// What a declared name is, for the failure message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Macro,
    Tag,
    Typedef,
    Function,
    EnumConstant,
    Object,
}

/// Every name the header declares at file scope, with its kind. Struct
/// fields and parameter names are not declared at file scope and are left
/// out.
fn declared_names(header: &str) -> BTreeSet<(String, Kind)> {
    let mut names = BTreeSet::new();
    let mut code = String::new();
    let mut cplusplus_depth = 0;
    for line in strip_comments(header).lines() {
        let t = line.trim();
        if let Some(directive) = t.strip_prefix('#') {
            let words: Vec<&str> = directive.split_whitespace().collect();
            match words.as_slice() {
                ["define", name, ..] => {
                    let name = name.split('(').next().unwrap_or(name);
                    names.insert((name.to_owned(), Kind::Macro));
                }
                ["ifdef", "__cplusplus", ..] => cplusplus_depth += 1,
                ["if" | "ifdef" | "ifndef", ..] if cplusplus_depth > 0 => cplusplus_depth += 1,
                ["endif", ..] if cplusplus_depth > 0 => cplusplus_depth -= 1,
                _ => {}
            }
        } else if cplusplus_depth == 0 {
            code.push_str(line);
            code.push('\n');
        }
    }
    // Declarations end at a `;` outside braces (struct fields end in one).
    let mut decl = Vec::new();
    let mut depth = 0;
    for t in tokenize(&code) {
        match t.as_str() {
            "{" => depth += 1,
            "}" => depth -= 1,
            ";" if depth == 0 => {
                declaration_names(&decl, &mut names);
                decl.clear();
                continue;
            }
            _ => {}
        }
        decl.push(t);
    }
    declaration_names(&decl, &mut names);
    names
}

/// The names one top-level declaration (its tokens, `;` excluded) declares.
fn declaration_names(decl: &[String], names: &mut BTreeSet<(String, Kind)>) {
    if decl.is_empty() {
        return;
    }
    let is_ident = |t: &str| {
        t.chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_')
            && t.chars().all(|c| c.is_alphanumeric() || c == '_')
    };
    // Tags: `struct x`, `enum x`, `union x`, wherever they appear.
    for w in decl.windows(2) {
        if matches!(w[0].as_str(), "struct" | "enum" | "union") && is_ident(&w[1]) {
            names.insert((w[1].clone(), Kind::Tag));
        }
    }
    // Enum constants: the first name of each item in an enum's braces.
    let mut i = 0;
    while i < decl.len() {
        if decl[i] == "enum" {
            let open = (i + 1..decl.len()).find(|&j| decl[j] == "{" || decl[j] == "(");
            if let Some(open) = open.filter(|&j| decl[j] == "{") {
                let mut depth = 0;
                let mut item_start = true;
                for (j, t) in decl.iter().enumerate().skip(open) {
                    match t.as_str() {
                        "{" | "(" => depth += 1,
                        "}" | ")" => depth -= 1,
                        "," if depth == 1 => item_start = true,
                        _ if depth == 1 && item_start && is_ident(t) => {
                            names.insert((t.clone(), Kind::EnumConstant));
                            item_start = false;
                        }
                        _ => {}
                    }
                    if depth == 0 {
                        i = j;
                        break;
                    }
                }
            }
        }
        i += 1;
    }
    // The declarator: braces' contents dropped, then the name before the
    // first `(` (a function), after `(*` (a function pointer), or the last.
    let mut outer = Vec::new();
    let mut depth = 0;
    for t in decl {
        match t.as_str() {
            "{" => depth += 1,
            "}" => depth -= 1,
            _ if depth == 0 => outer.push(t.as_str()),
            _ => {}
        }
    }
    let typedef = outer.first() == Some(&"typedef");
    let name = match outer.iter().position(|t| *t == "(") {
        Some(p) if outer.get(p + 1) == Some(&"*") => outer.get(p + 2).copied(),
        Some(p) if p > 0 => Some(outer[p - 1]),
        Some(_) => None,
        None => outer.last().copied(),
    };
    if let Some(name) = name.filter(|n| is_ident(n)) {
        let kind = if typedef {
            Kind::Typedef
        } else if outer.contains(&"(") {
            Kind::Function
        } else if matches!(outer.first(), Some(&("struct" | "enum" | "union"))) && outer.len() == 2
        {
            // `struct x;` declares only the tag, counted above.
            return;
        } else {
            Kind::Object // cbindgen writes none, but check it too
        };
        names.insert((name.to_owned(), kind));
    }
}

fn strip_comments(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("/*").into_iter().chain(rest.find("//")).min() {
        out.push_str(&rest[..start]);
        if rest[start..].starts_with("/*") {
            let end = rest[start..]
                .find("*/")
                .map_or(rest.len(), |e| start + e + 2);
            // Keep line structure for the directive scan.
            out.extend(rest[start..end].chars().filter(|&c| c == '\n'));
            rest = &rest[end..];
        } else {
            let end = rest[start..].find('\n').map_or(rest.len(), |e| start + e);
            rest = &rest[end..];
        }
    }
    out.push_str(rest);
    out
}

/// Identifiers, numbers, string literals and single punctuation characters.
fn tokenize(code: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let chars: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push(chars[start..i].iter().collect());
        } else if c == '"' {
            let start = i;
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            tokens.push(chars[start..i.min(chars.len())].iter().collect());
        } else {
            tokens.push(c.to_string());
            i += 1;
        }
    }
    tokens
}

fn unprefixed(names: &BTreeSet<(String, Kind)>) -> Vec<String> {
    names
        .iter()
        .filter(|(n, _)| !n.starts_with("appose_") && !n.starts_with("APPOSE_"))
        .map(|(n, k)| format!("{n} ({k:?})"))
        .collect()
}

#[test]
fn every_name_in_the_header_is_prefixed() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("include/appose.h");
    let header = std::fs::read_to_string(&path).unwrap();
    let names = declared_names(&header);
    // The scan sees every kind of name (else it would pass by seeing none).
    for (name, kind) in [
        ("APPOSE_H", Kind::Macro),
        ("APPOSE_VERSION_MAJOR", Kind::Macro),
        ("appose_status", Kind::Tag),
        ("appose_status", Kind::Typedef),
        ("APPOSE_STATUS_OK", Kind::EnumConstant),
        ("APPOSE_DTYPE_BOOL", Kind::EnumConstant),
        ("appose_task", Kind::Typedef),
        ("appose_event", Kind::Tag),
        ("appose_task_listener", Kind::Typedef),
        ("appose_version", Kind::Function),
        ("appose_service_pid", Kind::Function),
        ("appose_map_free", Kind::Function),
    ] {
        assert!(
            names.contains(&(name.to_owned(), kind)),
            "the scan missed {name} ({kind:?})"
        );
    }
    let bad = unprefixed(&names);
    assert!(
        bad.is_empty(),
        "include/appose.h declares names without the appose_/APPOSE_ prefix: {}; \
         exclude them in cbindgen.toml ([export] exclude) or rename them",
        bad.join(", ")
    );
}

#[test]
fn the_scan_reports_each_kind_of_unprefixed_name() {
    let header = r#"
/* typedef struct InComment InComment; */
#ifndef APPOSE_H
#define APPOSE_H
#define BARE_MACRO 1
#define bare_fn_macro(x) (x)
#ifdef __cplusplus
extern "C" {
#endif
typedef struct DType DType;
typedef enum appose_e { APPOSE_E_A = 0, BARE_CONSTANT = 1, } appose_e;
typedef struct bare_tag { int field; } appose_s;
typedef void (*bare_callback)(void *userdata, const struct appose_x *x);
enum appose_status bare_function(const struct appose_x *x, // a comment
                                 int count);
const char *appose_ok(void);
#ifdef __cplusplus
}  // extern "C"
#endif
#endif
"#;
    let bad = unprefixed(&declared_names(header));
    assert_eq!(
        bad,
        [
            "BARE_CONSTANT (EnumConstant)",
            "BARE_MACRO (Macro)",
            "DType (Tag)",
            "DType (Typedef)",
            "bare_callback (Typedef)",
            "bare_fn_macro (Macro)",
            "bare_function (Function)",
            "bare_tag (Tag)",
        ]
    );
}

/// Each function's doc comment, by name, as cbindgen writes them (`/** ...
/// */` right before the declaration).
fn function_docs(header: &str) -> Vec<(String, String)> {
    let mut docs = Vec::new();
    let mut rest = header;
    while let Some(start) = rest.find("/**") {
        let Some(len) = rest[start..].find("*/") else {
            break;
        };
        let doc = &rest[start + 3..start + len];
        rest = &rest[start + len + 2..];
        let decl = &rest[..rest.find(';').unwrap_or(rest.len())];
        if decl.contains("/*") || decl.contains('{') || decl.contains("typedef") {
            continue; // not a function declaration
        }
        if let Some(open) = decl.find('(') {
            let name = decl[..open].split_whitespace().last().unwrap_or("");
            let name = name.trim_start_matches('*');
            if name.starts_with("appose_") {
                let text = doc
                    .split_whitespace()
                    .filter(|w| *w != "*")
                    .collect::<Vec<_>>();
                docs.push((name.to_owned(), text.join(" ")));
            }
        }
    }
    docs
}

/// Whether a doc comment says the call blocks: "Blocks until ...",
/// "blocks as ... does", "(blocking while ...)". Not "Does not block", nor
/// the noun ("shared memory blocks").
fn says_it_blocks(doc: &str) -> bool {
    let words: Vec<&str> = doc.split_whitespace().collect();
    words.windows(2).any(|w| {
        matches!(w[0], "Blocks" | "blocks" | "blocking" | "(blocking")
            && matches!(w[1], "until" | "while" | "as" | "only" | "for" | "up")
    })
}

/// The functions the header's opening comment lists as maybe blocking,
/// `_rebuild` after `appose_builder_build` standing for
/// `appose_builder_rebuild`.
fn listed_as_blocking(header: &str) -> BTreeSet<String> {
    const START: &str = "Calls that may block say so and for how long:";
    const END: &str = "Every other call returns at once.";
    let opening = &header[..header.find("*/").unwrap_or(header.len())];
    let text = opening
        .split_whitespace()
        .filter(|w| *w != "*")
        .collect::<Vec<_>>()
        .join(" ");
    let from = text
        .find(START)
        .expect("the header lists the calls that may block")
        + START.len();
    let to = from
        + text[from..]
            .find(END)
            .expect("the list ends with its closing sentence");
    let mut names = BTreeSet::new();
    let mut stem = String::new();
    for word in text[from..to].split(|c: char| !(c.is_alphanumeric() || c == '_')) {
        if word.starts_with("appose_") {
            stem = word.splitn(3, '_').take(2).collect::<Vec<_>>().join("_");
            names.insert(word.to_owned());
        } else if word.starts_with('_') && !stem.is_empty() {
            names.insert(format!("{stem}{word}"));
        }
    }
    names
}

#[test]
fn the_header_lists_exactly_the_calls_that_say_they_block() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("include/appose.h");
    let header = std::fs::read_to_string(&path).unwrap();
    let docs = function_docs(&header);
    assert!(
        docs.len() > 100,
        "the scan found only {} functions",
        docs.len()
    );
    let blocking: BTreeSet<String> = docs
        .iter()
        .filter(|(_, doc)| says_it_blocks(doc))
        .map(|(name, _)| name.clone())
        .collect();
    assert!(blocking.contains("appose_task_wait"));
    let listed = listed_as_blocking(&header);
    let unlisted: Vec<_> = blocking.difference(&listed).collect();
    let undocumented: Vec<_> = listed.difference(&blocking).collect();
    assert!(
        unlisted.is_empty() && undocumented.is_empty(),
        "cbindgen.toml's list of calls that may block is out of step with their comments: \
         say they block but are not listed: {unlisted:?}; listed but do not say how long \
         they block: {undocumented:?}"
    );
}
