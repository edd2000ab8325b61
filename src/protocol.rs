//! The worker protocol: requests we write, responses we read.
//!
//! Owns the wire form of requests, the tolerant reading of worker stdout and
//! the crash report. Pure functions, no threads (the crash report of a
//! worker killed by SIGBUS reads the free space of `/dev/shm`).
//!
//! The Python worker writes a response and its newline in two writes, so
//! concurrent tasks produce lines such as `{A}{B}` and blank lines; scripts
//! print to the same stdout. [`split_line`] therefore reads each line as a
//! stream of JSON values, keeps every object it can recover, and reports the
//! rest as not-a-response so the line can be kept as an "invalid line". A
//! response it cannot read but whose task it can still name is reported as
//! [`Undecodable`], so that its task can be failed rather than left pending.

use crate::value::{self, Map, Value};

/// How a response moves a task along.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ResponseType {
    Launch,
    Update,
    Completion,
    Cancelation,
    Failure,
    /// Never sent by a worker: our own verdict when the worker exits with the
    /// task pending.
    Crash,
}

impl ResponseType {
    pub fn from_wire(s: &str) -> Option<Self> {
        Some(match s {
            "LAUNCH" => ResponseType::Launch,
            "UPDATE" => ResponseType::Update,
            "COMPLETION" => ResponseType::Completion,
            "CANCELATION" => ResponseType::Cancelation,
            "FAILURE" => ResponseType::Failure,
            "CRASH" => ResponseType::Crash,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ResponseType::Launch => "LAUNCH",
            ResponseType::Update => "UPDATE",
            ResponseType::Completion => "COMPLETION",
            ResponseType::Cancelation => "CANCELATION",
            ResponseType::Failure => "FAILURE",
            ResponseType::Crash => "CRASH",
        }
    }

    /// True for the responses that end a task.
    pub fn is_terminal(self) -> bool {
        !matches!(self, ResponseType::Launch | ResponseType::Update)
    }
}

/// One decoded response.
#[derive(Clone, Debug, PartialEq)]
pub struct Response {
    pub task: String,
    pub response_type: ResponseType,
    pub message: Option<String>,
    pub current: Option<i64>,
    pub maximum: Option<i64>,
    pub info: Option<Value>,
    pub outputs: Option<Map>,
    pub error: Option<String>,
}

impl Response {
    /// A CRASH verdict for `task`.
    pub fn crash(task: &str, error: String) -> Self {
        Self::terminal(task, ResponseType::Crash, error)
    }

    /// A FAILURE of `task` found on our side (a response we cannot read).
    pub fn failure(task: &str, error: String) -> Self {
        Self::terminal(task, ResponseType::Failure, error)
    }

    fn terminal(task: &str, response_type: ResponseType, error: String) -> Self {
        Response {
            task: task.to_owned(),
            response_type,
            message: None,
            current: None,
            maximum: None,
            info: None,
            outputs: None,
            error: Some(error),
        }
    }
}

/// Why an object read from stdout is not a usable response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotAResponse {
    NoTask,
    BadType(String),
}

/// Decodes a JSON object into a response.
pub fn decode_response(obj: Map) -> Result<Response, NotAResponse> {
    let mut obj = obj;
    let Some(task) = obj.remove("task").and_then(Value::into_string) else {
        return Err(NotAResponse::NoTask);
    };
    let response_type = match obj.get("responseType") {
        Some(Value::String(s)) => {
            ResponseType::from_wire(s).ok_or_else(|| NotAResponse::BadType(s.clone()))?
        }
        other => {
            return Err(NotAResponse::BadType(
                other.map(Value::to_json).unwrap_or_default(),
            ))
        }
    };
    let string = |v: Option<Value>| v.and_then(Value::into_string);
    let outputs = obj.remove("outputs").and_then(Value::into_object);
    Ok(Response {
        task,
        response_type,
        message: string(obj.remove("message")),
        current: obj.get("current").and_then(Value::as_i64),
        maximum: obj.get("maximum").and_then(Value::as_i64),
        info: obj.remove("info").filter(|v| !v.is_null()),
        outputs,
        error: string(obj.remove("error")),
    })
}

/// The objects recovered from one stdout line, and whether the line also held
/// something else (garbage, a partial value, a non-object value).
#[derive(Debug, Default, PartialEq)]
pub struct SplitLine {
    pub objects: Vec<Map>,
    /// True when the line held anything but objects and whitespace,
    /// undecodable responses included.
    pub has_garbage: bool,
    /// Responses that could not be read but name their task: each should end
    /// that task (as a FAILURE carrying the reason) rather than leave it
    /// pending forever. In line order.
    pub undecodable: Vec<Undecodable>,
}

/// A top-level object on a stdout line that is not valid JSON (nested deeper
/// than the parser allows, truncated, broken in its middle) but whose
/// top-level `"task"` key, a string, could still be read.
///
/// It may also be printed text that merely looks like a response: whoever
/// acts on it should only touch a task that is pending under that id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Undecodable {
    /// The id of the task the object names.
    pub task: String,
    /// Its top-level `"responseType"`, when that is a string (not checked
    /// against the known types).
    pub response_type: Option<String>,
    /// What is wrong and where, e.g. "the response cannot be read: nesting
    /// deeper than 100000 levels at byte 500012 of its line".
    pub reason: String,
}

/// Bound on resynchronisation attempts within one line (each may parse or
/// scan to the line's end), so that a long line of brace-laden garbage
/// costs linear rather than quadratic time.
const MAX_RESYNC: usize = 64;

/// Splits one stdout line (without its newline) into the JSON objects on it.
///
/// Blank lines yield nothing. Where parsing fails, reading resumes at the next
/// `{`, so a response glued after printed text is still found. An object that
/// fails but names its task (see [`Undecodable`]) is reported and skipped
/// whole when its brackets balance, so its contents are not mistaken for
/// responses.
pub fn split_line(line: &[u8]) -> SplitLine {
    let mut out = SplitLine::default();
    let mut pos = value::skip_ws(line, 0);
    let mut resyncs = 0;
    // Where the last `"task"` key text starts: no response starts after it.
    let mut last_task_key = None;
    while pos < line.len() {
        let e = match value::parse_prefix(line, pos) {
            Ok((v, end)) => {
                match v.into_object() {
                    Some(m) => out.objects.push(m),
                    None => out.has_garbage = true,
                }
                pos = value::skip_ws(line, end);
                continue;
            }
            Err(e) => e,
        };
        out.has_garbage = true;
        // Each failure may cost a scan to the end of the line.
        resyncs += 1;
        if resyncs > MAX_RESYNC {
            break;
        }
        let last_task_key = *last_task_key.get_or_insert_with(|| {
            line.windows(TASK_KEY.len())
                .rposition(|w| w == TASK_KEY)
                .unwrap_or(0)
        });
        let mut next = pos + 1;
        if pos < last_task_key && starts_with_key(line, pos) {
            let scan = shallow_scan(line, pos);
            if let Some(task) = scan.task {
                out.undecodable.push(Undecodable {
                    task,
                    response_type: scan.response_type,
                    reason: format!("the response cannot be read: {e} of its line"),
                });
                // Unbalanced (truncated): what parsed is its content, but a
                // response may follow where parsing stopped.
                next = scan.end.unwrap_or(e.offset.max(pos + 1));
            }
        }
        match line[next..].iter().position(|&b| b == b'{') {
            Some(off) => pos = next + off,
            None => break,
        }
    }
    out
}

/// The key text that names a task, as every worker writes it.
const TASK_KEY: &[u8] = b"\"task\"";

/// True when `line[pos]` opens an object whose first key is a string, as a
/// response's does (this spares scans of lines of `{{{{`).
fn starts_with_key(line: &[u8], pos: usize) -> bool {
    line[pos] == b'{' && line.get(value::skip_ws(line, pos + 1)) == Some(&b'"')
}

/// What a tolerant look at an object that does not parse found.
struct Shallow {
    /// Just past its closing brace, when its brackets balance.
    end: Option<usize>,
    /// Its top-level `"task"` and `"responseType"` values, when strings.
    task: Option<String>,
    response_type: Option<String>,
}

/// Reads the object opening at `line[start]` without parsing its values:
/// strings are skipped whole, brackets only counted (without limit or
/// recursion, so nesting costs nothing), and only the top-level members'
/// string values are read. As with parsing, a repeated key's last value wins.
fn shallow_scan(line: &[u8], start: usize) -> Shallow {
    let mut found = Shallow {
        end: None,
        task: None,
        response_type: None,
    };
    let mut depth = 0usize;
    // At depth 1: whether a key comes next, the last key read, and the key
    // whose value comes next (after its ':').
    let mut want_key = false;
    let mut key: Option<&[u8]> = None;
    let mut value_of: Option<&[u8]> = None;
    let mut i = start;
    while i < line.len() {
        match line[i] {
            b'"' => {
                let end = skip_string(line, i);
                if depth == 1 {
                    if want_key {
                        key = Some(&line[i..end]);
                        want_key = false;
                    } else if let Some(k) = value_of.take() {
                        let slot = match k {
                            b"\"task\"" => Some(&mut found.task),
                            b"\"responseType\"" => Some(&mut found.response_type),
                            _ => None,
                        };
                        if let Some(slot) = slot {
                            if let Ok((v, _)) = value::parse_prefix(line, i) {
                                *slot = v.into_string();
                            }
                        }
                    }
                }
                i = end;
                continue;
            }
            b'{' | b'[' => {
                depth += 1;
                want_key = depth == 1;
                value_of = None;
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    found.end = Some(i + 1);
                    break;
                }
            }
            b',' if depth == 1 => {
                want_key = true;
                value_of = None;
            }
            b':' if depth == 1 => value_of = key.take(),
            b' ' | b'\t' | b'\r' | b'\n' => {}
            _ if depth == 1 => value_of = None,
            _ => {}
        }
        i += 1;
    }
    found
}

/// Offset just past the string literal opening at `line[start]` (the line's
/// end when it is not closed).
fn skip_string(line: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < line.len() {
        match line[i] {
            b'"' => return i + 1,
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
    line.len()
}

/// The EXECUTE request line (without newline), field order as the peers send it.
pub fn execute_request(task: &str, script: &str, inputs: &Map, queue: Option<&str>) -> String {
    let mut s = String::with_capacity(64 + script.len());
    s.push_str("{\"task\":");
    value::write_json_string(task, &mut s);
    s.push_str(",\"requestType\":\"EXECUTE\",\"script\":");
    value::write_json_string(script, &mut s);
    s.push_str(",\"inputs\":");
    inputs.write_json(&mut s);
    s.push_str(",\"queue\":");
    match queue {
        Some(q) => value::write_json_string(q, &mut s),
        None => s.push_str("null"),
    }
    s.push('}');
    s
}

/// The CANCEL request line (without newline).
pub fn cancel_request(task: &str) -> String {
    let mut s = String::with_capacity(64);
    s.push_str("{\"task\":");
    value::write_json_string(task, &mut s);
    s.push_str(",\"requestType\":\"CANCEL\"}");
    s
}

/// How a death by SIGBUS is reported: 128 + signal 7, by us and by a shell
/// or launcher between us and the worker alike.
pub const SIGBUS_EXIT_CODE: i32 = 128 + libc::SIGBUS;

/// The crash report both peers give a task whose worker exited under it,
/// to the letter; after it, for a worker killed by SIGBUS, one line of ours
/// saying what that usually means.
pub fn crash_message(exit_code: i32, invalid_lines: &[String], error_lines: &[String]) -> String {
    let mut s = peers_crash_message(exit_code, invalid_lines, error_lines);
    if exit_code == SIGBUS_EXIT_CODE {
        s.push_str(&sigbus_hint(crate::shm::space()));
    }
    s
}

/// The line added to the crash report of a worker killed by SIGBUS, given
/// what `/dev/shm` has now. Mapped files that shrink also raise SIGBUS, but
/// here the usual cause is a block written past the space of `/dev/shm`.
pub(crate) fn sigbus_hint(space: Option<crate::shm::Space>) -> String {
    let size = crate::shm::suggested_shm_size(space.map_or(0, |s| s.total.saturating_mul(2)));
    format!(
        "The worker was killed by SIGBUS (exit code {SIGBUS_EXIT_CODE}): most likely shared \
         memory ran out ({}). Give it more: run the container with --shm-size={size}, or \
         remount /dev/shm larger (mount -o remount,size={size} /dev/shm).\n",
        crate::shm::describe_space(space)
    )
}

fn peers_crash_message(exit_code: i32, invalid_lines: &[String], error_lines: &[String]) -> String {
    let mut s = format!("Worker crashed with exit code {exit_code}.\n\n[stdout]\n");
    let section = |s: &mut String, lines: &[String]| {
        if lines.is_empty() {
            s.push_str("<none>\n");
        }
        for l in lines {
            s.push_str(l);
            s.push('\n');
        }
    };
    section(&mut s, invalid_lines);
    s.push_str("\n[stderr]\n");
    section(&mut s, error_lines);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tasks(line: &str) -> (Vec<String>, bool) {
        let split = split_line(line.as_bytes());
        let ids = split
            .objects
            .into_iter()
            .map(|m| decode_response(m).unwrap().task)
            .collect();
        (ids, split.has_garbage)
    }

    #[test]
    fn glued_responses_are_all_recovered() {
        let line = r#"{"task":"a","responseType":"LAUNCH"}{"task":"b","responseType":"UPDATE","info":null} {"task":"c","responseType":"COMPLETION"}"#;
        assert_eq!(
            tasks(line),
            (vec!["a".into(), "b".into(), "c".into()], false)
        );
    }

    #[test]
    fn blank_and_garbage_lines() {
        assert_eq!(tasks("   "), (vec![], false));
        assert_eq!(tasks("hello world"), (vec![], true));
        assert_eq!(tasks("42"), (vec![], true));
        assert_eq!(tasks("{bad json"), (vec![], true));
        let glued = r#"printed {x} {"task":"t","responseType":"LAUNCH"}"#;
        assert_eq!(tasks(glued), (vec!["t".into()], true));
    }

    /// The line's objects' tasks, its undecodable entries' tasks and types.
    fn verdicts(split: &SplitLine) -> (Vec<String>, Vec<(String, Option<String>)>) {
        let ids = split
            .objects
            .iter()
            .map(|m| decode_response(m.clone()).unwrap().task)
            .collect();
        let bad = split
            .undecodable
            .iter()
            .map(|u| (u.task.clone(), u.response_type.clone()))
            .collect();
        (ids, bad)
    }

    /// Openers of `levels` nested containers, objects (naming a task of
    /// their own) and lists alternating, and their closers.
    fn nesting(levels: usize) -> (String, String) {
        let (mut open, mut close) = (String::new(), String::new());
        for i in 0..levels {
            if i % 2 == 0 {
                open.push_str(r#"{"task":"inner","k":"#);
                close.push('}');
            } else {
                open.push('[');
                close.push(']');
            }
        }
        (open, close.chars().rev().collect())
    }

    #[test]
    fn a_response_too_deep_to_read_is_reported_and_its_neighbours_kept() {
        // Levels 1 and 2 are the response and its outputs.
        let (open, close) = nesting(value::MAX_DEPTH - 1);
        let head = r#"{"task":"a","responseType":"LAUNCH"}{"task":"t1","responseType":"COMPLETION","outputs":{"r":"#;
        let line = format!(r#"{head}{open}1{close}}}}}{{"task":"b","responseType":"UPDATE"}}"#);
        let split = split_line(line.as_bytes());
        assert_eq!(
            verdicts(&split),
            (
                vec!["a".into(), "b".into()],
                vec![("t1".into(), Some("COMPLETION".into()))]
            )
        );
        assert!(split.has_garbage);
        // The last opener is the one past the limit.
        let at = head.len() + open.rfind(['{', '[']).unwrap();
        assert_eq!(
            split.undecodable[0].reason,
            format!(
                "the response cannot be read: nesting deeper than {} levels at byte {at} of its line",
                value::MAX_DEPTH
            )
        );
    }

    #[test]
    fn a_too_deep_object_naming_no_task_is_garbage_only() {
        let line = format!(
            r#"{{"responseType":"COMPLETION","x":{}{}}}"#,
            "[".repeat(value::MAX_DEPTH),
            "]".repeat(value::MAX_DEPTH)
        );
        assert_eq!(
            split_line(line.as_bytes()),
            SplitLine {
                objects: vec![],
                has_garbage: true,
                undecodable: vec![],
            }
        );
    }

    #[test]
    fn a_truncated_response_naming_its_task_is_reported() {
        let line = br#"{"task":"t2","responseType":"COMPLETION","outputs":{"a":[1,{"b":2"#;
        assert_eq!(
            split_line(line),
            SplitLine {
                objects: vec![],
                has_garbage: true,
                undecodable: vec![Undecodable {
                    task: "t2".into(),
                    response_type: Some("COMPLETION".into()),
                    reason: format!(
                        "the response cannot be read: expected ',' or '}}' at byte {} of its line",
                        line.len()
                    ),
                }],
            }
        );
    }

    #[test]
    fn only_top_level_string_members_name_the_task() {
        // Braces and quoted keys inside strings, a task key nested deeper,
        // an invalid value: the object still names t5, and is skipped whole.
        let line = br#"{"note":"a \"task\": \"x\" {","outputs":{"task":"inner","a":nope},"task":"t5","responseType":7} {"task":"b","responseType":"LAUNCH"}"#;
        let split = split_line(line);
        assert_eq!(
            verdicts(&split),
            (vec!["b".into()], vec![("t5".into(), None)])
        );
        // A task that is not a string names nothing.
        let split = split_line(br#"{"task":5,"responseType":"COMPLETION","x":nope}"#);
        assert_eq!(verdicts(&split), (vec![], vec![]));
    }

    #[test]
    fn decodes_update_fields() {
        let split = split_line(
            br#"{"message":"m","current":3,"maximum":9,"info":{"k":[1]},"task":"t","responseType":"UPDATE"}"#,
        );
        let r = decode_response(split.objects.into_iter().next().unwrap()).unwrap();
        assert_eq!(r.response_type, ResponseType::Update);
        assert_eq!(r.message.as_deref(), Some("m"));
        assert_eq!((r.current, r.maximum), (Some(3), Some(9)));
        assert_eq!(r.info.unwrap().to_json(), r#"{"k":[1]}"#);
    }

    #[test]
    fn objects_that_are_not_responses() {
        let m = |s: &str| value::parse(s).unwrap().as_object().unwrap().clone();
        assert_eq!(decode_response(m(r#"{"x":1}"#)), Err(NotAResponse::NoTask));
        assert_eq!(
            decode_response(m(r#"{"task":"t","responseType":"NOPE"}"#)),
            Err(NotAResponse::BadType("NOPE".into()))
        );
    }

    #[test]
    fn requests_have_the_peers_shape() {
        let mut inputs = Map::new();
        inputs.insert("x", Value::from(1i64));
        assert_eq!(
            execute_request("id", "x+1", &inputs, Some("main")),
            r#"{"task":"id","requestType":"EXECUTE","script":"x+1","inputs":{"x":1},"queue":"main"}"#
        );
        assert_eq!(
            cancel_request("id"),
            r#"{"task":"id","requestType":"CANCEL"}"#
        );
    }

    #[test]
    fn crash_message_matches_the_peers() {
        assert_eq!(
            crash_message(1, &[], &["boom".into()]),
            "Worker crashed with exit code 1.\n\n[stdout]\n<none>\n\n[stderr]\nboom\n"
        );
        // Other signals get the peers' report alone.
        assert_eq!(
            crash_message(137, &["x".into()], &[]),
            "Worker crashed with exit code 137.\n\n[stdout]\nx\n\n[stderr]\n<none>\n"
        );
    }

    #[test]
    fn a_sigbus_crash_says_what_it_usually_means() {
        let peers = "Worker crashed with exit code 135.\n\n[stdout]\n<none>\n\n[stderr]\nboom\n";
        let message = crash_message(135, &[], &["boom".into()]);
        let hint = message
            .strip_prefix(peers)
            .expect("the peers' report comes first");
        assert!(
            hint.starts_with("The worker was killed by SIGBUS"),
            "{hint}"
        );
        assert!(hint.contains("/dev/shm has "), "{hint}");
        assert_eq!(hint.matches('\n').count(), 1, "one line: {hint:?}");
        let space = crate::shm::Space {
            free: 0,
            total: 64 << 20,
        };
        assert_eq!(
            sigbus_hint(Some(space)),
            "The worker was killed by SIGBUS (exit code 135): most likely shared memory ran \
             out (/dev/shm has 0 bytes free of 67108864 bytes (64.0 MiB)). Give it more: run \
             the container with --shm-size=1g, or remount /dev/shm larger (mount -o \
             remount,size=1g /dev/shm).\n"
        );
        assert!(sigbus_hint(None).contains("the free space of /dev/shm cannot be read"));
    }
}
