//! Environments: where a worker's executables live and how to launch them.
//!
//! An [`Environment`] is plain data (base directory, bin directories, a
//! launcher prefix such as `pixi run ...`, extra environment variables) and is
//! immutable once made; builders (system, wrap, and later uv/pixi/mamba) only
//! differ in how they fill it. [`Environment::python`] and
//! [`Environment::service`] turn it into a not-yet-started [`Service`].

use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind, Result};
use crate::service::{Service, ServiceConfig};

/// The Python executables the peers look for, in their order.
pub const PYTHON_CANDIDATES: &[&str] = &[
    "python",
    "python3",
    "python.exe",
    "bin/python",
    "bin/python.exe",
];

/// The worker program the Python peers start.
pub const PYTHON_WORKER_ARGS: &[&str] = &[
    "-c",
    "import appose.python_worker; appose.python_worker.main()",
];

/// Variables removed from a worker's environment, as the Python client does:
/// they would point the worker at some other conda environment.
const DROPPED_VARS: &[&str] = &[
    "CONDA_PREFIX",
    "CONDA_DEFAULT_ENV",
    "CONDA_SHLVL",
    "PYTHONEXECUTABLE",
];

/// Where a worker runs and how it is launched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Environment {
    base: PathBuf,
    bin_paths: Vec<PathBuf>,
    launch_args: Vec<String>,
    env_vars: Vec<(String, String)>,
}

impl Environment {
    /// An environment from its parts. `launch_args`, when not empty, is put
    /// before the executable, which is then named bare (the launcher finds it).
    pub fn new(
        base: impl Into<PathBuf>,
        bin_paths: Vec<PathBuf>,
        launch_args: Vec<String>,
        env_vars: Vec<(String, String)>,
    ) -> Self {
        Environment {
            base: base.into(),
            bin_paths,
            launch_args,
            env_vars,
        }
    }

    /// The system's own executables: the directories on `PATH`, based in the
    /// current directory.
    pub fn system() -> Result<Self> {
        let base = std::env::current_dir()
            .map_err(|e| Error::io("cannot read the current directory", e))?;
        let path = std::env::var_os("PATH").unwrap_or_default();
        let bin_paths = std::env::split_paths(&path).collect();
        Ok(Environment::new(base, bin_paths, Vec::new(), Vec::new()))
    }

    /// An existing environment directory used as it is, its kind detected
    /// as the peers do: `.pixi/` or `pixi.toml` (run through `pixi run`),
    /// `conda-meta/` (through `micromamba run`), `pyvenv.cfg` (a venv), else
    /// a plain directory whose `bin/` and itself hold the executables. No
    /// packages are installed; pixi and micromamba are located (or fetched)
    /// in the default envs root.
    pub fn wrap(dir: impl AsRef<Path>) -> Result<Self> {
        crate::builder::wrap(dir.as_ref(), None)
    }

    pub fn base(&self) -> &Path {
        &self.base
    }

    pub fn bin_paths(&self) -> &[PathBuf] {
        &self.bin_paths
    }

    pub fn launch_args(&self) -> &[String] {
        &self.launch_args
    }

    pub fn env_vars(&self) -> &[(String, String)] {
        &self.env_vars
    }

    /// A Python worker service (not started), with the peers' argv.
    pub fn python(&self) -> Result<Service> {
        let args: Vec<String> = PYTHON_WORKER_ARGS.iter().map(|s| s.to_string()).collect();
        let service = self.service(PYTHON_CANDIDATES, &args)?;
        service.set_syntax(Some(crate::syntax::Syntax::Python));
        Ok(service)
    }

    /// The environment's python with `args` instead of the worker's (e.g.
    /// `-m pip list`), as a service (not started; its stdout is read as
    /// responses, anything else kept as invalid lines). With no arguments,
    /// the same as [`Environment::python`].
    pub fn python_with(&self, args: &[String]) -> Result<Service> {
        if args.is_empty() {
            return self.python();
        }
        let service = self.service(PYTHON_CANDIDATES, args)?;
        service.set_syntax(Some(crate::syntax::Syntax::Python));
        Ok(service)
    }

    /// The builder that would rebuild this environment: from the
    /// `appose.json` its builder wrote, else from the description in its
    /// directory (see [`crate::builder::recover`]).
    pub fn builder(&self) -> Result<crate::Builder> {
        crate::builder::recover(&self.base)
    }

    /// The named sub-environment `name` of this pixi environment (e.g.
    /// `"gpu"`), installed if needed: its workers run through `pixi run
    /// --environment name`. [`ErrorKind::InvalidState`] for other kinds.
    pub fn activate(&self, name: &str) -> Result<Environment> {
        crate::builder::activate(&self.base, name, None)
    }

    /// Deletes this environment's directory and builds it again from its
    /// configuration, as its builder's `rebuild` does.
    pub fn rebuild(&self) -> Result<Environment> {
        self.builder()?.rebuild()
    }

    /// Deletes this environment's directory (only an environment, as its
    /// builder's `delete` does).
    pub fn delete(&self) -> Result<()> {
        self.builder()?.delete()
    }

    /// The kind of environment its base directory is, as the peers name it:
    /// `"pixi"`, `"mamba"`, `"uv"` (a venv) or `"custom"` (anything else).
    pub fn env_type(&self) -> &'static str {
        crate::builder::detect(&self.base).name()
    }

    /// A Groovy worker service (not started): `java -cp <classpath> <jvm
    /// args> org.apposed.appose.GroovyWorker`, with the class path built as
    /// appose-java builds it: the worker's own jars first (those
    /// [`GROOVY_CLASSPATH_VAR`] names, where appose-java puts the jars its
    /// own classes came from), then `classpath`; each existing element by
    /// its canonical path, each once. Without a launcher prefix the class
    /// path is checked for the GroovyWorker, Groovy and groovy-json, so a
    /// missing jar is an error that names it rather than a worker that dies
    /// with "Could not find or load main class".
    pub fn groovy(&self, classpath: &[String], jvm_args: &[String]) -> Result<Service> {
        let mut elements = groovy_worker_classpath();
        elements.extend(classpath.iter().cloned());
        let elements = canonical_classpath(&elements);
        if self.launch_args.is_empty() {
            check_groovy_classpath(&elements)?;
        }
        let service = self.java("org.apposed.appose.GroovyWorker", &elements, jvm_args)?;
        service.set_syntax(Some(crate::syntax::Syntax::Groovy));
        Ok(service)
    }

    /// A service running a Java main class with `java` from this environment
    /// (`java`, `bin/java` or `jre/bin/java`, as the peers look for it);
    /// `classpath` goes to `-cp`, each element once, in the order given.
    pub fn java(
        &self,
        main_class: &str,
        classpath: &[String],
        jvm_args: &[String],
    ) -> Result<Service> {
        let mut args = Vec::new();
        if !classpath.is_empty() {
            let mut seen = std::collections::HashSet::new();
            let unique: Vec<&str> = classpath
                .iter()
                .map(String::as_str)
                .filter(|e| seen.insert(*e))
                .collect();
            args.push("-cp".to_owned());
            args.push(unique.join(":"));
        }
        args.extend(jvm_args.iter().cloned());
        args.push(main_class.to_owned());
        self.service(&["java", "bin/java", "jre/bin/java"], &args)
    }

    /// A service running the first of `candidates` found in this environment,
    /// with `args` after it.
    pub fn service(&self, candidates: &[&str], args: &[String]) -> Result<Service> {
        let exe = self.find_executable(candidates)?;
        let mut argv = self.launch_args.clone();
        argv.push(exe);
        argv.extend(args.iter().cloned());
        Ok(Service::new(self.service_config(argv)))
    }

    /// A service running exactly `argv` in this environment.
    pub fn service_argv(&self, argv: Vec<String>) -> Result<Service> {
        if argv.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "a worker command needs at least a program",
            ));
        }
        Ok(Service::new(self.service_config(argv)))
    }

    fn service_config(&self, argv: Vec<String>) -> ServiceConfig {
        let mut env_vars: Vec<(String, Option<String>)> =
            DROPPED_VARS.iter().map(|k| (k.to_string(), None)).collect();
        env_vars.extend(
            self.env_vars
                .iter()
                .map(|(k, v)| (k.clone(), Some(v.clone()))),
        );
        ServiceConfig {
            argv,
            cwd: self.base.clone(),
            env_vars,
        }
    }

    /// Finds the first candidate that is an executable file: names with a `/`
    /// relative to the base, bare names in each bin directory. With a launcher
    /// prefix, the launcher resolves bare names itself.
    fn find_executable(&self, candidates: &[&str]) -> Result<String> {
        if candidates.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "no executable candidates given",
            ));
        }
        if !self.launch_args.is_empty() {
            return Ok(candidates[0].to_string());
        }
        for name in candidates {
            let places: Vec<PathBuf> = if name.contains('/') {
                vec![self.base.join(name)]
            } else {
                self.bin_paths.iter().map(|d| d.join(name)).collect()
            };
            if let Some(found) = places.into_iter().find(|p| is_executable(p)) {
                return Ok(found.to_string_lossy().into_owned());
            }
        }
        let dirs: Vec<String> = self
            .bin_paths
            .iter()
            .map(|d| d.display().to_string())
            .collect();
        Err(Error::new(
            ErrorKind::NotFound,
            format!(
                "no executable among [{}] in [{}] (base {})",
                candidates.join(", "),
                dirs.join(", "),
                self.base.display()
            ),
        ))
    }
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// The environment variable naming the Groovy worker's own jars (appose,
/// Groovy, groovy-json and their dependencies), `:`-separated; `dir/*`
/// stands for every jar in `dir`, as on a Java class path.
pub const GROOVY_CLASSPATH_VAR: &str = "APPOSE_GROOVY_CLASSPATH";

fn groovy_worker_classpath() -> Vec<String> {
    std::env::var(GROOVY_CLASSPATH_VAR)
        .unwrap_or_default()
        .split(':')
        .filter(|e| !e.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Each element by its canonical path when it exists (a `dir/*` wildcard
/// by its directory's), else as given; each once, first place kept.
fn canonical_classpath(elements: &[String]) -> Vec<String> {
    let canonical = |e: &str| -> String {
        if let Some(dir) = e.strip_suffix("/*") {
            if let Ok(d) = std::fs::canonicalize(dir) {
                return format!("{}/*", d.display());
            }
        } else if let Ok(p) = std::fs::canonicalize(e) {
            return p.to_string_lossy().into_owned();
        }
        e.to_owned()
    };
    let mut seen = std::collections::HashSet::new();
    elements
        .iter()
        .map(|e| canonical(e))
        .filter(|e| seen.insert(e.clone()))
        .collect()
}

/// Whether `class` (a path like `groovy/lang/GroovyShell.class`) is in a
/// class path element: a directory, a jar, or every jar of `dir/*`.
fn element_has_class(element: &str, class: &str) -> bool {
    let jar_has = |jar: &Path| {
        std::fs::File::open(jar)
            .ok()
            .and_then(|f| zip::ZipArchive::new(f).ok())
            .is_some_and(|mut z| z.by_name(class).is_ok())
    };
    if let Some(dir) = element.strip_suffix("/*") {
        return std::fs::read_dir(dir).is_ok_and(|entries| {
            entries.flatten().any(|e| {
                let p = e.path();
                p.extension().is_some_and(|x| x.eq_ignore_ascii_case("jar")) && jar_has(&p)
            })
        });
    }
    let p = Path::new(element);
    if p.is_dir() {
        p.join(class).is_file()
    } else {
        jar_has(p)
    }
}

/// Refuses a class path without what appose-java 0.9.0's GroovyWorker needs.
fn check_groovy_classpath(elements: &[String]) -> Result<()> {
    const NEEDED: [(&str, &str); 3] = [
        (
            "org/apposed/appose/GroovyWorker.class",
            "appose-java's jar (org.apposed:appose, e.g. appose-0.9.0.jar)",
        ),
        (
            "groovy/lang/GroovyShell.class",
            "Groovy (org.apache.groovy:groovy 4)",
        ),
        (
            "groovy/json/JsonOutput.class",
            "groovy-json (org.apache.groovy:groovy-json)",
        ),
    ];
    let missing: Vec<&str> = NEEDED
        .iter()
        .filter(|(class, _)| !elements.iter().any(|e| element_has_class(e, class)))
        .map(|(_, what)| *what)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::NotFound,
        format!(
            "the Groovy worker's class path lacks {}: pass their jars in the class path \
             or name them in {GROOVY_CLASSPATH_VAR} (e.g. `mvn dependency:copy-dependencies` \
             of org.apposed:appose:0.9.0 into a directory D, then {GROOVY_CLASSPATH_VAR}='D/*'); \
             the class path was [{}]",
            missing.join(", "),
            elements.join(":")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_python_lists_candidates() {
        let dir = tempfile::tempdir().unwrap();
        let env = Environment::wrap(dir.path()).unwrap();
        let err = env.python().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert!(
            err.message().contains("python, python3, python.exe"),
            "{err}"
        );
    }

    /// A jar holding empty entries named `classes`.
    fn jar(path: &Path, classes: &[&str]) {
        let mut z = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
        for c in classes {
            z.start_file(*c, zip::write::SimpleFileOptions::default())
                .unwrap();
        }
        z.finish().unwrap();
    }

    #[test]
    fn a_groovy_class_path_is_canonical_names_each_element_once_and_java_is_found_in_jre() {
        let dir = tempfile::tempdir().unwrap();
        let jre = dir.path().join("jre/bin");
        std::fs::create_dir_all(&jre).unwrap();
        let java = jre.join("java");
        std::fs::write(&java, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&java, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let jars = dir.path().join("jars");
        std::fs::create_dir(&jars).unwrap();
        jar(
            &jars.join("appose.jar"),
            &["org/apposed/appose/GroovyWorker.class"],
        );
        jar(
            &jars.join("groovy.jar"),
            &[
                "groovy/lang/GroovyShell.class",
                "groovy/json/JsonOutput.class",
            ],
        );
        let canonical = std::fs::canonicalize(&jars).unwrap();
        let a = canonical.join("appose.jar").to_string_lossy().into_owned();
        let g = canonical.join("groovy.jar").to_string_lossy().into_owned();
        let env = Environment::new(dir.path(), vec![], vec![], vec![]);
        // The same jar by two spellings counts once; a missing element stays.
        let roundabout = format!("{}/../jars/appose.jar", jars.display());
        let cp: Vec<String> = vec![a.clone(), g.clone(), roundabout, "/no/such.jar".into()];
        let svc = env.groovy(&cp, &["-Xmx1g".to_owned()]).unwrap();
        assert_eq!(
            svc.argv(),
            [
                java.to_str().unwrap(),
                "-cp",
                &format!("{a}:{g}:/no/such.jar"),
                "-Xmx1g",
                "org.apposed.appose.GroovyWorker"
            ]
        );
        // Every jar of a directory, as Java reads `dir/*`.
        let wild = format!("{}/*", jars.display());
        let svc = env.groovy(std::slice::from_ref(&wild), &[]).unwrap();
        assert_eq!(svc.argv()[2], format!("{}/*", canonical.display()));
        // A class path without the GroovyWorker or groovy-json says which.
        std::fs::remove_file(jars.join("groovy.jar")).unwrap();
        jar(&jars.join("groovy.jar"), &["groovy/lang/GroovyShell.class"]);
        let err = env.groovy(&[wild], &[]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert!(err.message().contains("groovy-json"), "{err}");
        assert!(!err.message().contains("appose-java's jar"), "{err}");
        assert!(err.message().contains(GROOVY_CLASSPATH_VAR), "{err}");
        let err = env.groovy(&[], &[]).unwrap_err();
        assert!(err.message().contains("appose-java's jar"), "{err}");
    }

    #[test]
    fn directories_are_told_apart_as_the_peers_do() {
        let dir = tempfile::tempdir().unwrap();
        let env = Environment::wrap(dir.path()).unwrap();
        assert_eq!(env.env_type(), "custom");
        assert!(!crate::builder::can_wrap(dir.path()));
        std::fs::write(dir.path().join("pyvenv.cfg"), "home = /usr\n").unwrap();
        assert_eq!(crate::builder::detect(dir.path()).name(), "uv");
        assert!(crate::builder::can_wrap(dir.path()));
    }

    #[test]
    fn absolute_candidates_are_taken_as_they_are() {
        let dir = tempfile::tempdir().unwrap();
        let env = Environment::new(dir.path(), vec![dir.path().join("bin")], vec![], vec![]);
        let svc = env
            .service(&["/no/such/dir/sh", "/bin/sh"], &["-c".to_owned()])
            .unwrap();
        assert_eq!(svc.argv(), ["/bin/sh", "-c"]);
        let err = env.service(&["/no/such/dir/sh"], &[]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert!(err.message().contains("/no/such/dir/sh"), "{err}");
    }

    #[test]
    fn launcher_prefix_names_the_executable_bare() {
        let env = Environment::new("/envs/x", vec![], vec!["pixi".into(), "run".into()], vec![]);
        let svc = env.python().unwrap();
        assert_eq!(
            svc.argv(),
            vec![
                "pixi",
                "run",
                "python",
                "-c",
                "import appose.python_worker; appose.python_worker.main()"
            ]
        );
    }

    #[test]
    fn groovy_and_java_services_have_the_peers_command() {
        let env = Environment::new("/envs/g", vec![], vec!["launcher".into()], vec![]);
        let cp = vec!["/jars/appose.jar".to_owned(), "/jars/groovy.jar".to_owned()];
        let svc = env.groovy(&cp, &["-Xmx1g".to_owned()]).unwrap();
        assert_eq!(
            svc.argv(),
            [
                "launcher",
                "java",
                "-cp",
                "/jars/appose.jar:/jars/groovy.jar",
                "-Xmx1g",
                "org.apposed.appose.GroovyWorker"
            ]
        );
        let svc = env.java("com.example.Main", &[], &[]).unwrap();
        assert_eq!(svc.argv(), ["launcher", "java", "com.example.Main"]);
    }

    #[test]
    fn wrap_refuses_a_file() {
        let f = tempfile::NamedTempFile::new().unwrap();
        assert_eq!(
            Environment::wrap(f.path()).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
    }
}
