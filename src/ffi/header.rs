//! Checks of `include/appose.h` as C compilers see it.
//!
//! The layout of every struct in the header, as a C compiler sees it through
//! the header, against the Rust definition the library uses: the same fields
//! in the same order, at the same offsets, of the same sizes, with no
//! implicit padding (so hosts that describe structs by hand, such as Java's
//! FFM or koffi, need no padding members). The structs and their fields are
//! read from the header, so a new struct or field that has no entry in
//! [`rust_layouts`] fails here.
//!
//! And the names it declares: all `appose_`/`APPOSE_` prefixed.

use std::path::Path;
use std::process::Command;

use super::queue::appose_event;

/// A struct's size and its fields' (name, offset, size), in order.
#[derive(Debug, PartialEq, Eq)]
struct Layout {
    size: usize,
    fields: Vec<(String, usize, usize)>,
}

fn size_of_field<T, F>(_: fn(&T) -> &F) -> usize {
    std::mem::size_of::<F>()
}

macro_rules! layout {
    ($t:ident { $($f:ident),* $(,)? }) => {
        (
            stringify!($t),
            Layout {
                size: std::mem::size_of::<$t>(),
                fields: vec![$((
                    stringify!($f).to_owned(),
                    std::mem::offset_of!($t, $f),
                    size_of_field(|s: &$t| &s.$f),
                )),*],
            },
        )
    };
}

/// Every public struct, as Rust lays it out.
fn rust_layouts() -> Vec<(&'static str, Layout)> {
    vec![layout!(appose_event {
        size,
        kind,
        response_type,
        task_status,
        status,
        has_current,
        has_maximum,
        exit_code,
        reserved,
        tag,
        current,
        maximum,
        task_id,
        message,
        info_json,
        info,
        error,
        env,
    })]
}

/// The header without its comments, which may hold any text.
fn without_comments(header: &str) -> String {
    let mut text = String::new();
    let mut rest = header;
    while let Some(start) = rest.find("/*") {
        text.push_str(&rest[..start]);
        let end = rest[start..].find("*/").expect("a comment ends") + start + 2;
        rest = &rest[end..];
    }
    text.push_str(rest);
    text.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

fn read_header() -> (&'static Path, String) {
    let header = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/include/appose.h"));
    (header, std::fs::read_to_string(header).unwrap())
}

/// The structs defined in the header with a body, and their field names.
fn header_structs(header: &str) -> Vec<(String, Vec<String>)> {
    let text = without_comments(header);
    let mut structs = Vec::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find("typedef struct ") {
        rest = &rest[start + "typedef struct ".len()..];
        let head_end = rest.find([';', '{']).expect("a typedef ends");
        if rest.as_bytes()[head_end] == b';' {
            continue; // opaque: `typedef struct x x;`
        }
        let name = rest[..head_end].trim().to_owned();
        let body_end = rest.find('}').expect("a struct body ends");
        let fields = rest[head_end + 1..body_end]
            .split(';')
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(|decl| {
                let field = decl
                    .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .next()
                    .unwrap_or_default();
                assert!(
                    !field.is_empty() && !decl.contains(['(', '[', ':']),
                    "cannot read the field of `{decl}` in struct {name}: extend this test"
                );
                field.to_owned()
            })
            .collect();
        structs.push((name, fields));
        rest = &rest[body_end..];
    }
    structs
}

/// Compiles and runs a C program that prints, for each struct, its size and
/// each field's offset and size as the header gives them.
fn c_layouts(header: &Path, structs: &[(String, Vec<String>)]) -> Vec<(String, Layout)> {
    let mut src = String::from(
        "#include <stddef.h>\n#include <stdio.h>\n#include \"appose.h\"\n\nint main(void) {\n",
    );
    for (name, fields) in structs {
        src.push_str(&format!(
            "  printf(\"struct {name} %zu\\n\", sizeof(struct {name}));\n"
        ));
        for f in fields {
            src.push_str(&format!(
                "  printf(\"field {f} %zu %zu\\n\", offsetof(struct {name}, {f}), \
                 sizeof(((struct {name} *)0)->{f}));\n"
            ));
        }
    }
    src.push_str("  return 0;\n}\n");

    let dir = tempfile::tempdir().unwrap();
    let (c_file, exe) = (dir.path().join("layout.c"), dir.path().join("layout"));
    std::fs::write(&c_file, src).unwrap();
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let status = Command::new(&cc)
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-I"])
        .arg(header.parent().unwrap())
        .arg(&c_file)
        .arg("-o")
        .arg(&exe)
        .status()
        .unwrap_or_else(|e| panic!("{cc} runs: {e}"));
    assert!(status.success(), "compiling the layout program failed");
    let out = Command::new(&exe).output().unwrap();
    assert!(out.status.success());

    let mut layouts: Vec<(String, Layout)> = Vec::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let words: Vec<&str> = line.split(' ').collect();
        let n = |i: usize| words[i].parse::<usize>().unwrap();
        match words[0] {
            "struct" => layouts.push((
                words[1].to_owned(),
                Layout {
                    size: n(2),
                    fields: Vec::new(),
                },
            )),
            _ => layouts
                .last_mut()
                .unwrap()
                .1
                .fields
                .push((words[1].to_owned(), n(2), n(3))),
        }
    }
    layouts
}

#[test]
fn structs_have_the_same_layout_in_c_and_rust_without_padding() {
    let (header, text) = read_header();
    let structs = header_structs(&text);
    assert!(
        structs.iter().any(|(n, _)| n == "appose_event"),
        "no struct read from the header: {structs:?}"
    );
    let c = c_layouts(header, &structs);
    let rust = rust_layouts();
    assert_eq!(
        c.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        rust.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        "the header's structs and this test's list differ"
    );
    for ((name, c), (_, rust)) in c.iter().zip(&rust) {
        assert_eq!(c, rust, "struct {name}: C (left) and Rust (right) differ");
        let mut end = 0;
        for (field, offset, size) in &c.fields {
            assert_eq!(*offset, end, "struct {name}: padding before {field}");
            end = offset + size;
        }
        assert_eq!(end, c.size, "struct {name}: padding at the end");
    }
}

// Every declared name being prefixed is checked by tests/header.rs.
