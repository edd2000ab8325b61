//! Script syntax per worker language: the small scripts behind variables,
//! calls and worker objects.
//!
//! The peers generate the same snippets (appose-python's `syntax.py`,
//! appose-java's `ScriptSyntax`): a script whose last statement is an
//! expression reports that expression's value as the task's `result`.
//! Arguments travel as task inputs named `arg0`, `arg1`, ...; an argument
//! that is a worker object of the same service is named directly instead,
//! so the worker uses the object itself rather than its JSON reference.

use crate::error::{Error, ErrorKind, Result};

/// The language of a worker's scripts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Syntax {
    /// appose's Python worker.
    Python,
    /// appose-java's GroovyWorker.
    Groovy,
}

impl Syntax {
    /// The syntax named `name` ("python" or "groovy").
    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "python" => Ok(Syntax::Python),
            "groovy" => Ok(Syntax::Groovy),
            other => Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("unknown script syntax {other:?} (known: \"python\", \"groovy\")"),
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Syntax::Python => "python",
            Syntax::Groovy => "groovy",
        }
    }

    /// A script reporting the value of `expr` as the task's `result`. The
    /// peers end the script with the bare expression, but both workers
    /// merge a dict (map) result into the outputs, losing it as `result`:
    /// the value is assigned instead.
    pub fn result(self, expr: &str) -> String {
        match self {
            Syntax::Python => format!("task.outputs[\"result\"] = {expr}"),
            Syntax::Groovy => format!("task.outputs['result'] = ({expr})"),
        }
    }

    /// An expression whose value is the variable `name`.
    pub fn get_var(self, name: &str) -> String {
        name.to_owned()
    }

    /// Assigns the input `value_var` to `name` and exports it for later
    /// tasks.
    pub fn put_var(self, name: &str, value_var: &str) -> String {
        match self {
            Syntax::Python => format!("{name} = {value_var}\ntask.export({name}={name})"),
            Syntax::Groovy => format!("{name} = {value_var}\ntask.export([{name}: {name}])"),
        }
    }

    /// An expression calling `function` with the given argument expressions.
    pub fn call(self, function: &str, args: &[String]) -> String {
        format!("{function}({})", args.join(", "))
    }

    /// An expression calling method `method` of `object`.
    pub fn invoke(self, object: &str, method: &str, args: &[String]) -> String {
        format!("{object}.{method}({})", args.join(", "))
    }

    /// An expression whose value is attribute `attribute` of `object` (for
    /// Groovy a property, else a method reference, as the peers do).
    pub fn get_attribute(self, object: &str, attribute: &str) -> String {
        match self {
            Syntax::Python => format!("{object}.{attribute}"),
            // A closure called at once: `try` is a statement in Groovy.
            Syntax::Groovy => format!(
                "{{ -> try {{ {object}.{attribute} }} \
                 catch (groovy.lang.MissingPropertyException e) {{ {object}.&{attribute} }} }}()"
            ),
        }
    }

    /// An expression whose value is the list of `object`'s attribute names.
    pub fn get_attributes(self, object: &str) -> String {
        match self {
            Syntax::Python => format!("dir({object})"),
            Syntax::Groovy => format!(
                "({object}.metaClass.methods*.name + {object}.metaClass.properties*.name).unique()"
            ),
        }
    }

    /// A script that deletes the exported variables named in the input
    /// `names_var` (a list of strings), or `None` where the worker offers
    /// no way to. Neither peer ever deletes an export; appose 0.12.0's
    /// Python worker keeps them in its worker's `exports` dict, which a
    /// script reaches through the task object (a private detail: pinned to
    /// that version by tests/worker_object.rs).
    pub fn release(self, names_var: &str) -> Option<String> {
        match self {
            Syntax::Python => Some(format!(
                "for _appose_name in {names_var}:\n    task._worker.exports.pop(_appose_name, None)"
            )),
            Syntax::Groovy => None,
        }
    }
}

/// Checks that `name` can stand in a script as a variable, function,
/// attribute or method name: an identifier, or dotted identifiers for
/// functions (`math.sqrt`). Anything else would be script injection.
pub(crate) fn check_name(name: &str, what: &str, dotted: bool) -> Result<()> {
    let ident = |s: &str| {
        let mut chars = s.chars();
        chars.next().is_some_and(|c| c == '_' || c.is_alphabetic())
            && chars.all(|c| c == '_' || c.is_alphanumeric())
    };
    let ok = if dotted {
        name.split('.').all(ident)
    } else {
        ident(name)
    };
    if ok {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "{what} {name:?} is not a{} name",
                if dotted {
                    " (dotted) identifier"
                } else {
                    "n identifier"
                }
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_and_groovy_snippets_match_the_peers() {
        let p = Syntax::Python;
        assert_eq!(p.put_var("x", "_value"), "x = _value\ntask.export(x=x)");
        assert_eq!(
            p.call("max", &["arg0".into(), "arg1".into()]),
            "max(arg0, arg1)"
        );
        assert_eq!(p.get_attribute("o", "year"), "o.year");
        assert_eq!(p.get_attributes("o"), "dir(o)");
        assert_eq!(p.result("x"), "task.outputs[\"result\"] = x");
        let g = Syntax::Groovy;
        assert_eq!(g.put_var("x", "_value"), "x = _value\ntask.export([x: x])");
        assert!(g.get_attribute("o", "a").contains("o.&a"));
        assert!(g.release("n").is_none());
    }

    #[test]
    fn names_that_are_not_identifiers_are_refused() {
        assert!(check_name("math.sqrt", "function", true).is_ok());
        assert!(check_name("math.sqrt", "attribute", false).is_err());
        assert!(check_name("x; import os", "variable", false).is_err());
        assert!(check_name("", "variable", false).is_err());
        assert!(check_name("1x", "variable", false).is_err());
        assert!(check_name("été", "variable", false).is_ok());
    }
}
