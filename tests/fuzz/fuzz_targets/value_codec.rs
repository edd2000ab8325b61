//! Any text: whatever parses re-encodes to text that parses to the same.
#![no_main]

use appose::value::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(v) = parse(text) {
            let once = v.to_json();
            let twice = parse(&once).expect("our own output parses").to_json();
            assert_eq!(once, twice);
        }
    }
});
