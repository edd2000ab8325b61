//! Worker objects: values that stay in the worker, used from here by name.
//!
//! A worker returns what JSON cannot carry (a model, a datetime, an open
//! file) as `{"appose_type":"worker_object","var_name":"_appose_auto_N"}`
//! and keeps the object exported under that name. A [`WorkerObject`] is a
//! handle to it: read its attributes, call its methods, list its
//! attributes, pass it to functions of the same worker — each a small task
//! in the worker's [`Syntax`].
//!
//! **Release.** Neither peer ever deletes such an export, so a long-running
//! application leaks every object it touched. Here the export goes when the
//! last handle to an object the worker made goes: the name joins the
//! service's release batch, and one task deletes every name batched so far
//! (never a task per object). Objects named by the caller
//! ([`Service::proxy`]) are the caller's: never deleted. Release is quietly
//! skipped when the service is closed or its worker has died.
//!
//! Variables and calls on a service ([`Service::get_var`],
//! [`Service::put_var`], [`Service::call`]) live here too, as they share
//! the argument and result handling. Each blocking helper has a `_task`
//! form that returns the task unstarted, for hosts that must not block.

use std::sync::{Arc, OnceLock};

use crate::error::{Error, ErrorKind, Result};
use crate::lock;
use crate::syntax::{check_name, Syntax};
use crate::value::{Map, Value};
use crate::{Service, Task};

struct Handle {
    name: String,
    /// The service the object lives in, once known.
    service: OnceLock<Service>,
    /// Made by the worker for us: its export is deleted with the last handle.
    owned: bool,
    /// The worker queue its tasks run on (`None`: any thread).
    queue: Option<String>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        if let (true, Some(service)) = (self.owned, self.service.get()) {
            release(service, std::mem::take(&mut self.name));
        }
    }
}

/// A handle to an object that lives in a worker (see the module doc).
/// Clones share the handle.
#[derive(Clone)]
pub struct WorkerObject {
    handle: Arc<Handle>,
}

impl std::fmt::Debug for WorkerObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerObject")
            .field("name", &self.handle.name)
            .field("owned", &self.handle.owned)
            .finish()
    }
}

impl WorkerObject {
    /// A reference read from JSON, not yet tied to a service (it cannot run
    /// anything until it is).
    pub(crate) fn unbound(name: &str) -> Self {
        WorkerObject {
            handle: Arc::new(Handle {
                name: name.to_owned(),
                service: OnceLock::new(),
                owned: true,
                queue: None,
            }),
        }
    }

    /// Ties a reference the worker of `service` sent to that service.
    pub(crate) fn bind(&self, service: &Service) {
        let _ = self.handle.service.set(service.clone());
    }

    /// The variable the worker keeps the object under.
    pub fn name(&self) -> &str {
        &self.handle.name
    }

    /// Whether the worker's export goes when the last handle does (true for
    /// objects the worker made and sent).
    pub fn is_owned(&self) -> bool {
        self.handle.owned
    }

    /// The service whose worker holds the object.
    pub fn service(&self) -> Result<&Service> {
        self.handle.service.get().ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidState,
                format!(
                    "worker object {} was not received from a service, so nothing can run on it",
                    self.handle.name
                ),
            )
        })
    }

    fn syntax(&self) -> Result<(Syntax, &Service)> {
        let service = self.service()?;
        Ok((service.require_syntax()?, service))
    }

    /// A task reading attribute `name` (its result: the value, or another
    /// worker object, e.g. a bound method).
    pub fn attr_task(&self, name: &str) -> Result<Task> {
        check_name(name, "attribute", false)?;
        let (syntax, service) = self.syntax()?;
        let script = syntax.result(&syntax.get_attribute(self.name(), name));
        self.task(service, &script, Map::new())
    }

    /// Attribute `name`'s value.
    pub fn attr(&self, name: &str) -> Result<Value> {
        result_of(self.attr_task(name)?)
    }

    /// A task calling method `method` with `args`.
    pub fn invoke_task(&self, method: &str, args: Vec<Value>) -> Result<Task> {
        check_name(method, "method", false)?;
        let (syntax, service) = self.syntax()?;
        let (exprs, inputs) = arguments(service, args)?;
        let script = syntax.result(&syntax.invoke(self.name(), method, &exprs));
        self.task(service, &script, inputs)
    }

    /// Calls method `method` with `args`; its result.
    pub fn invoke(&self, method: &str, args: Vec<Value>) -> Result<Value> {
        result_of(self.invoke_task(method, args)?)
    }

    /// A task calling the object itself (a function or callable) with `args`.
    pub fn call_task(&self, args: Vec<Value>) -> Result<Task> {
        let (syntax, service) = self.syntax()?;
        let (exprs, inputs) = arguments(service, args)?;
        let script = syntax.result(&syntax.call(self.name(), &exprs));
        self.task(service, &script, inputs)
    }

    /// Calls the object itself with `args`; its result.
    pub fn call(&self, args: Vec<Value>) -> Result<Value> {
        result_of(self.call_task(args)?)
    }

    /// A task listing the object's attribute names.
    pub fn dir_task(&self) -> Result<Task> {
        let (syntax, service) = self.syntax()?;
        let script = syntax.result(&syntax.get_attributes(self.name()));
        self.task(service, &script, Map::new())
    }

    /// The object's attribute names.
    pub fn dir(&self) -> Result<Vec<String>> {
        let v = result_of(self.dir_task()?)?;
        let items = v.into_array().unwrap_or_default();
        Ok(items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_owned))
            .collect())
    }

    /// Its script as a task; the task's inputs hold this handle, so the
    /// export outlives the task even when the caller lets go meanwhile.
    fn task(&self, service: &Service, script: &str, mut inputs: Map) -> Result<Task> {
        inputs.insert("_appose_self", Value::WorkerObject(self.clone()));
        service.task(script, Some(inputs), self.handle.queue.as_deref())
    }
}

/// Waits for `task` (starting it) and gives its result (`Null` if none).
fn result_of(task: Task) -> Result<Value> {
    task.wait(None)?;
    Ok(task.result().unwrap_or_default())
}

/// Script expressions for `args`, and the inputs they name: a worker object
/// of `service` is named directly; any other value travels as input `argN`.
fn arguments(service: &Service, args: Vec<Value>) -> Result<(Vec<String>, Map)> {
    let mut exprs = Vec::with_capacity(args.len());
    let mut inputs = Map::new();
    for (i, arg) in args.into_iter().enumerate() {
        if let Value::WorkerObject(w) = &arg {
            match w.handle.service.get() {
                Some(s) if s.same_as(service) => {
                    exprs.push(w.name().to_owned());
                    // The task keeps the object alive through its inputs.
                    inputs.insert(format!("_appose_keep{i}"), arg);
                    continue;
                }
                Some(_) => {
                    return Err(Error::new(
                        ErrorKind::InvalidArgument,
                        format!(
                            "argument {i} is worker object {} of another service",
                            w.name()
                        ),
                    ))
                }
                None => {}
            }
        }
        let name = format!("arg{i}");
        exprs.push(name.clone());
        inputs.insert(name, arg);
    }
    Ok((exprs, inputs))
}

impl Service {
    /// This service's script syntax, or a clear error for a custom worker
    /// without one.
    pub(crate) fn require_syntax(&self) -> Result<Syntax> {
        self.syntax().ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidState,
                "this service has no script syntax (a custom worker): name it with \
                 set_syntax(\"python\") or set_syntax(\"groovy\") first",
            )
        })
    }

    /// A task whose result is the exported variable `name`.
    pub fn get_var_task(&self, name: &str, queue: Option<&str>) -> Result<Task> {
        check_name(name, "variable", false)?;
        let syntax = self.require_syntax()?;
        let script = syntax.result(&syntax.get_var(name));
        self.task(&script, None, queue)
    }

    /// The value of the exported variable `name` (a worker object when JSON
    /// cannot carry it).
    pub fn get_var(&self, name: &str, queue: Option<&str>) -> Result<Value> {
        result_of(self.get_var_task(name, queue)?)
    }

    /// A task setting variable `name` to `value` and exporting it for later
    /// tasks.
    pub fn put_var_task(&self, name: &str, value: Value, queue: Option<&str>) -> Result<Task> {
        check_name(name, "variable", false)?;
        let syntax = self.require_syntax()?;
        let (mut exprs, inputs) = arguments(self, vec![value])?;
        let script = syntax.put_var(name, &exprs.remove(0));
        self.task(&script, Some(inputs), queue)
    }

    /// Sets variable `name` to `value` in the worker and exports it.
    pub fn put_var(&self, name: &str, value: Value, queue: Option<&str>) -> Result<()> {
        self.put_var_task(name, value, queue)?.wait(None)
    }

    /// A task calling `function` (a name the worker knows: a builtin, or one
    /// an earlier task or the init script defined and exported; dotted names
    /// such as `math.sqrt` are allowed) with `args`.
    pub fn call_task(&self, function: &str, args: Vec<Value>, queue: Option<&str>) -> Result<Task> {
        check_name(function, "function", true)?;
        let syntax = self.require_syntax()?;
        let (exprs, inputs) = arguments(self, args)?;
        self.task(
            &syntax.result(&syntax.call(function, &exprs)),
            Some(inputs),
            queue,
        )
    }

    /// Calls `function` with `args` in the worker; its result.
    pub fn call(&self, function: &str, args: Vec<Value>, queue: Option<&str>) -> Result<Value> {
        result_of(self.call_task(function, args, queue)?)
    }

    /// A handle to the variable `var` the caller exported earlier (e.g.
    /// `task.export(model=...)`); its tasks run on `queue`. The variable is
    /// the caller's: freeing the handle never deletes it.
    pub fn proxy(&self, var: &str, queue: Option<&str>) -> Result<WorkerObject> {
        check_name(var, "variable", false)?;
        self.require_syntax()?;
        let w = WorkerObject {
            handle: Arc::new(Handle {
                name: var.to_owned(),
                service: OnceLock::new(),
                owned: false,
                queue: queue.map(str::to_owned),
            }),
        };
        w.bind(self);
        Ok(w)
    }
}

/// Names waiting for a release task, and whether one runs.
#[derive(Default)]
pub(crate) struct Releases {
    names: Vec<String>,
    running: bool,
}

/// Batches `name` for deletion in the worker of `service`. Never runs a
/// task on the calling thread (a value may be dropped anywhere, locks
/// held): the first name of a batch starts a short thread that sends it.
fn release(service: &Service, name: String) {
    if service
        .require_syntax()
        .ok()
        .and_then(|s| s.release("x"))
        .is_none()
    {
        return;
    }
    let start = {
        let mut r = lock(service.releases());
        r.names.push(name);
        !std::mem::replace(&mut r.running, true)
    };
    if start {
        let sender = service.clone();
        let spawned = std::thread::Builder::new()
            .name("appose-release".to_owned())
            .spawn(move || send_releases(&sender));
        if spawned.is_err() {
            // The batch stays; the next release tries again.
            lock(service.releases()).running = false;
        }
    }
}

/// Sends one task deleting every batched name; when it ends, the next
/// batch (if any) goes the same way, from the dispatcher thread.
fn send_releases(service: &Service) {
    let names = {
        let mut r = lock(service.releases());
        if r.names.is_empty() {
            r.running = false;
            return;
        }
        std::mem::take(&mut r.names)
    };
    let sent = (|| -> Result<()> {
        let syntax = service.require_syntax()?;
        let script = syntax.release("_appose_names").unwrap_or_default();
        let mut inputs = Map::new();
        inputs.insert(
            "_appose_names",
            Value::Array(names.into_iter().map(Value::String).collect()),
        );
        let task = service.task(&script, Some(inputs), None)?;
        // Weak: a pending task's listener must not keep its own service
        // alive (with every handle gone, the worker must still get EOF).
        let next = service.downgrade();
        task.listen(Box::new(move |ev: &crate::TaskEvent| {
            if ev.response_type.is_terminal() {
                if let Some(service) = next.upgrade() {
                    send_releases(&service);
                }
            }
        }))?;
        task.start()
    })();
    if sent.is_err() {
        // Closed or dead: the worker and its exports are gone anyway.
        let mut r = lock(service.releases());
        r.names.clear();
        r.running = false;
    }
}
