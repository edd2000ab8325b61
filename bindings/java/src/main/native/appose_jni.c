/* The JNI bridge of the Java binding: thin glue from
 * org.libappose.internal.JniBridge's native methods to the C ABI.
 *
 * - Strings come from Java as NUL-terminated UTF-8 byte arrays (exact for
 *   every code point, which JNI's modified UTF-8 is not) and go back as
 *   Java strings built from UTF-8.
 * - A failed call throws org.libappose.ApposeException(status, message).
 * - Library threads that call Java are attached as daemons by the thread
 *   hooks (set when this library loads) and detached at their exit; any
 *   other thread that calls back is attached on first use and detached
 *   when it exits (a pthread key destructor).
 * - Listeners are global references, deleted by the library's
 *   userdata_free; a Java exception from a listener is cleared here (the
 *   Java side catches and reports its own first).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <jni.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "appose.h"

static JavaVM *g_vm;
static pthread_key_t g_detach_key;
static jclass g_exception; /* org.libappose.ApposeException */
static jmethodID g_exception_new;
static jclass g_string;        /* java.lang.String */
static jmethodID g_string_new; /* String(byte[], String charset) */
static jstring g_utf8;         /* "UTF-8" */
static jmethodID g_on_event;   /* TaskListener.onEvent */
static jmethodID g_on_line;    /* LineListener.onLine */
static jmethodID g_on_progress; /* ProgressListener.onProgress */

#define H(x) ((void *)(intptr_t)(x))
#define FN(name) JNICALL Java_org_libappose_internal_JniBridge_##name

/* --- threads ------------------------------------------------------------ */

static void detach_at_exit(void *unused) {
  (void)unused;
  (*g_vm)->DetachCurrentThread(g_vm);
}

/* The JNIEnv of this thread, attaching it as a daemon if it is not. */
static JNIEnv *env_here(void) {
  JNIEnv *env = NULL;
  if ((*g_vm)->GetEnv(g_vm, (void **)&env, JNI_VERSION_1_8) == JNI_OK) return env;
  JavaVMAttachArgs args = {JNI_VERSION_1_8, (char *)"appose-native", NULL};
  if ((*g_vm)->AttachCurrentThreadAsDaemon(g_vm, (void **)&env, &args) != JNI_OK) return NULL;
  pthread_setspecific(g_detach_key, (void *)1);
  return env;
}

static void hook_start(void *ud, const char *name) {
  (void)ud;
  JNIEnv *env = NULL;
  if ((*g_vm)->GetEnv(g_vm, (void **)&env, JNI_VERSION_1_8) == JNI_OK) return;
  JavaVMAttachArgs args = {JNI_VERSION_1_8, (char *)name, NULL};
  (*g_vm)->AttachCurrentThreadAsDaemon(g_vm, (void **)&env, &args);
}

static void hook_exit(void *ud, const char *name) {
  (void)ud;
  (void)name;
  (*g_vm)->DetachCurrentThread(g_vm);
}

static jclass global_class(JNIEnv *env, const char *name) {
  jclass local = (*env)->FindClass(env, name);
  if (local == NULL) return NULL;
  jclass global = (jclass)(*env)->NewGlobalRef(env, local);
  (*env)->DeleteLocalRef(env, local);
  return global;
}

static jmethodID method_of(JNIEnv *env, const char *cls, const char *name, const char *sig) {
  jclass c = (*env)->FindClass(env, cls);
  if (c == NULL) return NULL;
  jmethodID m = (*env)->GetMethodID(env, c, name, sig);
  (*env)->DeleteLocalRef(env, c);
  return m;
}

JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM *vm, void *reserved) {
  (void)reserved;
  g_vm = vm;
  JNIEnv *env;
  if ((*vm)->GetEnv(vm, (void **)&env, JNI_VERSION_1_8) != JNI_OK) return JNI_ERR;
  if (pthread_key_create(&g_detach_key, detach_at_exit) != 0) return JNI_ERR;
  g_exception = global_class(env, "org/libappose/ApposeException");
  if (g_exception == NULL) return JNI_ERR;
  g_exception_new = (*env)->GetMethodID(env, g_exception, "<init>", "(ILjava/lang/String;)V");
  g_string = global_class(env, "java/lang/String");
  if (g_exception_new == NULL || g_string == NULL) return JNI_ERR;
  g_string_new = (*env)->GetMethodID(env, g_string, "<init>", "([BLjava/lang/String;)V");
  jstring utf8 = (*env)->NewStringUTF(env, "UTF-8");
  if (g_string_new == NULL || utf8 == NULL) return JNI_ERR;
  g_utf8 = (jstring)(*env)->NewGlobalRef(env, utf8);
  (*env)->DeleteLocalRef(env, utf8);
  g_on_event = method_of(env, "org/libappose/internal/TaskListener", "onEvent",
                         "(IILjava/lang/String;ZJZJLjava/lang/String;Ljava/lang/String;)V");
  if (g_on_event == NULL) return JNI_ERR;
  g_on_line = method_of(env, "org/libappose/internal/LineListener", "onLine", "(Ljava/lang/String;)V");
  if (g_on_line == NULL) return JNI_ERR;
  g_on_progress =
      method_of(env, "org/libappose/internal/ProgressListener", "onProgress", "(Ljava/lang/String;JJ)V");
  if (g_on_progress == NULL) return JNI_ERR;
  /* Library threads that call listeners attach as daemons and detach at
     their exit, so a JVM never waits for them and leaks no Thread. */
  if (appose_set_thread_hooks(hook_start, hook_exit, NULL, NULL, NULL) != APPOSE_STATUS_OK) return JNI_ERR;
  return JNI_VERSION_1_8;
}

/* --- strings and errors ------------------------------------------------- */

/* A Java string from UTF-8 text (NULL gives null). */
static jstring jstr(JNIEnv *env, const char *s) {
  if (s == NULL) return NULL;
  size_t n = strlen(s);
  int plain = 1;
  for (size_t i = 0; i < n; i++) {
    if ((unsigned char)s[i] >= 0xF0) { /* outside the BMP: not modified UTF-8 */
      plain = 0;
      break;
    }
  }
  if (plain) return (*env)->NewStringUTF(env, s);
  jbyteArray bytes = (*env)->NewByteArray(env, (jsize)n);
  if (bytes == NULL) return NULL;
  (*env)->SetByteArrayRegion(env, bytes, 0, (jsize)n, (const jbyte *)s);
  jstring out = (jstring)(*env)->NewObject(env, g_string, g_string_new, bytes, g_utf8);
  (*env)->DeleteLocalRef(env, bytes);
  return out;
}

/* A string the library allocated, as a Java string; freed here. */
static jstring take_str(JNIEnv *env, char *s) {
  jstring out = jstr(env, s);
  appose_string_free(s);
  return out;
}

/* Throws ApposeException for a failed call and frees its error. */
static void throw_status(JNIEnv *env, appose_status st, appose_error *err) {
  const char *msg = err != NULL ? appose_error_message(err) : NULL;
  jstring jmsg = jstr(env, msg != NULL ? msg : appose_status_str(st));
  if (err != NULL) appose_error_free(err);
  if ((*env)->ExceptionCheck(env)) return;
  jobject ex = (*env)->NewObject(env, g_exception, g_exception_new, (jint)st, jmsg);
  if (ex != NULL) (*env)->Throw(env, (jthrowable)ex);
}

/* Returns 1 when the call succeeded; else throws and returns 0. */
static int ok(JNIEnv *env, appose_status st, appose_error *err) {
  if (st == APPOSE_STATUS_OK) return 1;
  throw_status(env, st, err);
  return 0;
}

/* A NUL-terminated UTF-8 byte array borrowed as a C string (NULL stays
   NULL); release with str_done. */
typedef struct {
  jbyteArray array;
  jbyte *bytes;
} cstr;

static cstr str_in(JNIEnv *env, jbyteArray a) {
  cstr s = {a, NULL};
  if (a != NULL) s.bytes = (*env)->GetByteArrayElements(env, a, NULL);
  return s;
}
#define CS(s) ((const char *)(s).bytes)
static void str_done(JNIEnv *env, cstr s) {
  if (s.bytes != NULL) (*env)->ReleaseByteArrayElements(env, s.array, s.bytes, JNI_ABORT);
}

/* An array of NUL-terminated byte arrays as C strings. */
typedef struct {
  size_t n;
  const char **ptrs;
  cstr *items;
} cstrs;

static int strs_in(JNIEnv *env, jobjectArray a, cstrs *out) {
  out->n = a != NULL ? (size_t)(*env)->GetArrayLength(env, a) : 0;
  out->ptrs = calloc(out->n + 1, sizeof *out->ptrs);
  out->items = calloc(out->n + 1, sizeof *out->items);
  if (out->ptrs == NULL || out->items == NULL) return 0;
  for (size_t i = 0; i < out->n; i++) {
    jbyteArray b = (jbyteArray)(*env)->GetObjectArrayElement(env, a, (jsize)i);
    out->items[i] = str_in(env, b);
    out->ptrs[i] = CS(out->items[i]);
  }
  return 1;
}

static void strs_done(JNIEnv *env, cstrs *s) {
  for (size_t i = 0; s->items != NULL && i < s->n; i++) {
    str_done(env, s->items[i]);
    (*env)->DeleteLocalRef(env, s->items[i].array);
  }
  free(s->ptrs);
  free(s->items);
}

/* Handles from a long[] as a C array (NULL entries allowed); free() it. */
static const appose_value **values_in(JNIEnv *env, jlongArray args, size_t *n) {
  jsize len = args != NULL ? (*env)->GetArrayLength(env, args) : 0;
  const appose_value **vals = calloc((size_t)len + 1, sizeof *vals);
  if (vals == NULL) return NULL;
  if (len > 0) {
    jlong *h = (*env)->GetLongArrayElements(env, args, NULL);
    for (jsize i = 0; i < len; i++) vals[i] = H(h[i]);
    (*env)->ReleaseLongArrayElements(env, args, h, JNI_ABORT);
  }
  *n = (size_t)len;
  return vals;
}

/* --- listeners ---------------------------------------------------------- */

static void drop_ref(void *ud) {
  JNIEnv *env = env_here();
  if (env != NULL) (*env)->DeleteGlobalRef(env, (jobject)ud);
}

static void clear_pending(JNIEnv *env) {
  if ((*env)->ExceptionCheck(env)) {
    (*env)->ExceptionDescribe(env);
    (*env)->ExceptionClear(env);
  }
}

static void on_task_event(void *ud, const appose_event *e) {
  JNIEnv *env = env_here();
  if (env == NULL || (*env)->PushLocalFrame(env, 8) != 0) return;
  jstring msg = jstr(env, e->message);
  jstring info = (*env)->ExceptionCheck(env) ? NULL : jstr(env, e->info_json);
  jstring error = (*env)->ExceptionCheck(env) ? NULL : jstr(env, e->error);
  if (!(*env)->ExceptionCheck(env)) {
    (*env)->CallVoidMethod(env, (jobject)ud, g_on_event, (jint)e->response_type, (jint)e->task_status, msg,
                           (jboolean)(e->has_current != 0), (jlong)e->current, (jboolean)(e->has_maximum != 0),
                           (jlong)e->maximum, info, error);
  }
  clear_pending(env);
  (*env)->PopLocalFrame(env, NULL);
}

static void on_line(void *ud, const char *line) {
  JNIEnv *env = env_here();
  if (env == NULL || (*env)->PushLocalFrame(env, 4) != 0) return;
  jstring s = jstr(env, line);
  if (!(*env)->ExceptionCheck(env)) (*env)->CallVoidMethod(env, (jobject)ud, g_on_line, s);
  clear_pending(env);
  (*env)->PopLocalFrame(env, NULL);
}

static void on_progress(void *ud, const char *title, uint64_t current, uint64_t maximum) {
  JNIEnv *env = env_here();
  if (env == NULL || (*env)->PushLocalFrame(env, 4) != 0) return;
  jstring s = jstr(env, title);
  if (!(*env)->ExceptionCheck(env)) {
    (*env)->CallVoidMethod(env, (jobject)ud, g_on_progress, s, (jlong)current, (jlong)maximum);
  }
  clear_pending(env);
  (*env)->PopLocalFrame(env, NULL);
}

/* --- library ------------------------------------------------------------ */

JNIEXPORT jstring FN(nVersion)(JNIEnv *env, jclass c) {
  (void)c;
  return jstr(env, appose_version());
}

/* --- builder ------------------------------------------------------------ */

JNIEXPORT jlong FN(nBuilderNew)(JNIEnv *env, jclass c, jbyteArray kind) {
  (void)c;
  appose_error *err = NULL;
  appose_builder *b = NULL;
  cstr k = str_in(env, kind);
  appose_status st = appose_builder_new(CS(k), &b, &err);
  str_done(env, k);
  return ok(env, st, err) ? (jlong)(intptr_t)b : 0;
}

typedef appose_status (*builder_setter)(appose_builder *, const char *, appose_error **);
/* In the order of Bridge.BUILDER_SETTERS. */
static const builder_setter k_setters[] = {
    appose_builder_name,     appose_builder_base,    appose_builder_envs_root,       appose_builder_content,
    appose_builder_file,     appose_builder_url,     appose_builder_scheme,          appose_builder_channel,
    appose_builder_flag,     appose_builder_python_version, appose_builder_package,  appose_builder_conda,
    appose_builder_pypi,     appose_builder_pixi_environment, appose_builder_bin_path, appose_builder_tool_mirror,
    appose_builder_tool_sha256,
};

JNIEXPORT void FN(nBuilderSet)(JNIEnv *env, jclass c, jlong b, jint which, jbyteArray value) {
  (void)c;
  if (which < 0 || (size_t)which >= sizeof k_setters / sizeof k_setters[0]) {
    throw_status(env, APPOSE_STATUS_INVALID_ARGUMENT, NULL);
    return;
  }
  appose_error *err = NULL;
  cstr v = str_in(env, value);
  appose_status st = k_setters[which](H(b), CS(v), &err);
  str_done(env, v);
  ok(env, st, err);
}

JNIEXPORT void FN(nBuilderEnvVar)(JNIEnv *env, jclass c, jlong b, jbyteArray key, jbyteArray value) {
  (void)c;
  appose_error *err = NULL;
  cstr k = str_in(env, key), v = str_in(env, value);
  appose_status st = appose_builder_env_var(H(b), CS(k), CS(v), &err);
  str_done(env, k);
  str_done(env, v);
  ok(env, st, err);
}

JNIEXPORT void FN(nBuilderAppendSystemPath)(JNIEnv *env, jclass c, jlong b) {
  (void)c;
  appose_error *err = NULL;
  ok(env, appose_builder_append_system_path(H(b), &err), err);
}

/* kind: 0 progress, 1 output, 2 error. */
JNIEXPORT void FN(nBuilderListen)(JNIEnv *env, jclass c, jlong b, jint kind, jobject listener) {
  (void)c;
  jobject ref = (*env)->NewGlobalRef(env, listener);
  if (ref == NULL) return;
  appose_error *err = NULL;
  appose_status st;
  if (kind == 0) {
    st = appose_builder_on_progress(H(b), on_progress, ref, drop_ref, &err);
  } else if (kind == 1) {
    st = appose_builder_on_output(H(b), on_line, ref, drop_ref, &err);
  } else {
    st = appose_builder_on_error(H(b), on_line, ref, drop_ref, &err);
  }
  if (st != APPOSE_STATUS_OK) (*env)->DeleteGlobalRef(env, ref);
  ok(env, st, err);
}

/* what: 0 build, 1 rebuild. */
JNIEXPORT jlong FN(nBuilderBuild)(JNIEnv *env, jclass c, jlong b, jint what) {
  (void)c;
  appose_error *err = NULL;
  appose_env *e = NULL;
  appose_status st = what == 0 ? appose_builder_build(H(b), &e, &err) : appose_builder_rebuild(H(b), &e, &err);
  return ok(env, st, err) ? (jlong)(intptr_t)e : 0;
}

JNIEXPORT void FN(nBuilderDelete)(JNIEnv *env, jclass c, jlong b) {
  (void)c;
  appose_error *err = NULL;
  ok(env, appose_builder_delete(H(b), &err), err);
}

/* --- environment -------------------------------------------------------- */

JNIEXPORT jlong FN(nEnvSystem)(JNIEnv *env, jclass c) {
  (void)c;
  appose_error *err = NULL;
  appose_env *e = NULL;
  return ok(env, appose_env_system(&e, &err), err) ? (jlong)(intptr_t)e : 0;
}

JNIEXPORT jlong FN(nEnvWrap)(JNIEnv *env, jclass c, jbyteArray dir) {
  (void)c;
  appose_error *err = NULL;
  appose_env *e = NULL;
  cstr d = str_in(env, dir);
  appose_status st = appose_env_wrap(CS(d), &e, &err);
  str_done(env, d);
  return ok(env, st, err) ? (jlong)(intptr_t)e : 0;
}

JNIEXPORT jstring FN(nEnvBase)(JNIEnv *env, jclass c, jlong e) {
  (void)c;
  appose_error *err = NULL;
  char *s = NULL;
  return ok(env, appose_env_base(H(e), &s, &err), err) ? take_str(env, s) : NULL;
}

JNIEXPORT jstring FN(nEnvType)(JNIEnv *env, jclass c, jlong e) {
  (void)c;
  appose_error *err = NULL;
  const char *s = NULL;
  return ok(env, appose_env_type(H(e), &s, &err), err) ? jstr(env, s) : NULL;
}

JNIEXPORT jlong FN(nEnvBuilder)(JNIEnv *env, jclass c, jlong e) {
  (void)c;
  appose_error *err = NULL;
  appose_builder *b = NULL;
  return ok(env, appose_env_builder(H(e), &b, &err), err) ? (jlong)(intptr_t)b : 0;
}

JNIEXPORT jlong FN(nEnvPython)(JNIEnv *env, jclass c, jlong e) {
  (void)c;
  appose_error *err = NULL;
  appose_service *s = NULL;
  return ok(env, appose_env_python(H(e), &s, &err), err) ? (jlong)(intptr_t)s : 0;
}

/* kind: 0 groovy(cp, jvm), 1 java(main, cp, jvm), 2 service(exes, args). */
JNIEXPORT jlong FN(nEnvService)(JNIEnv *env, jclass c, jlong e, jint kind, jbyteArray main_class,
                                jobjectArray first, jobjectArray second) {
  (void)c;
  appose_error *err = NULL;
  appose_service *s = NULL;
  cstrs a = {0, NULL, NULL}, b = {0, NULL, NULL};
  cstr m = str_in(env, main_class);
  appose_status st = APPOSE_STATUS_IO;
  if (strs_in(env, first, &a) && strs_in(env, second, &b)) {
    if (kind == 0) {
      st = appose_env_groovy(H(e), a.ptrs, a.n, b.ptrs, b.n, &s, &err);
    } else if (kind == 1) {
      st = appose_env_java(H(e), CS(m), a.ptrs, a.n, b.ptrs, b.n, &s, &err);
    } else {
      st = appose_env_service(H(e), a.ptrs, a.n, b.ptrs, b.n, &s, &err);
    }
  }
  strs_done(env, &a);
  strs_done(env, &b);
  str_done(env, m);
  return ok(env, st, err) ? (jlong)(intptr_t)s : 0;
}

/* --- service ------------------------------------------------------------ */

JNIEXPORT void FN(nServiceInit)(JNIEnv *env, jclass c, jlong s, jbyteArray script) {
  (void)c;
  appose_error *err = NULL;
  cstr sc = str_in(env, script);
  appose_status st = appose_service_init(H(s), CS(sc), &err);
  str_done(env, sc);
  ok(env, st, err);
}

JNIEXPORT void FN(nServiceDebug)(JNIEnv *env, jclass c, jlong s, jobject listener) {
  (void)c;
  jobject ref = (*env)->NewGlobalRef(env, listener);
  if (ref == NULL) return;
  appose_error *err = NULL;
  appose_status st = appose_service_debug(H(s), on_line, ref, drop_ref, &err);
  if (st != APPOSE_STATUS_OK) (*env)->DeleteGlobalRef(env, ref);
  ok(env, st, err);
}

JNIEXPORT void FN(nServiceStart)(JNIEnv *env, jclass c, jlong s) {
  (void)c;
  appose_error *err = NULL;
  ok(env, appose_service_start(H(s), &err), err);
}

JNIEXPORT jlong FN(nServiceTask)(JNIEnv *env, jclass c, jlong s, jbyteArray script, jbyteArray inputs,
                                 jbyteArray queue) {
  (void)c;
  appose_error *err = NULL;
  appose_task *t = NULL;
  cstr sc = str_in(env, script), in = str_in(env, inputs), q = str_in(env, queue);
  appose_status st = appose_service_task(H(s), CS(sc), CS(in), CS(q), &t, &err);
  str_done(env, sc);
  str_done(env, in);
  str_done(env, q);
  return ok(env, st, err) ? (jlong)(intptr_t)t : 0;
}

/* what: 0 close, 1 wait_exit. Returns the exit code. */
JNIEXPORT jint FN(nServiceClose)(JNIEnv *env, jclass c, jlong s, jint what, jlong timeout_ms) {
  (void)c;
  appose_error *err = NULL;
  int code = -1;
  appose_status st = what == 0 ? appose_service_close(H(s), timeout_ms, &code, &err)
                               : appose_service_wait_exit(H(s), timeout_ms, &code, &err);
  return ok(env, st, err) ? code : -1;
}

JNIEXPORT void FN(nServiceKill)(JNIEnv *env, jclass c, jlong s) {
  (void)c;
  appose_error *err = NULL;
  ok(env, appose_service_kill(H(s), &err), err);
}

JNIEXPORT jlong FN(nServicePid)(JNIEnv *env, jclass c, jlong s) {
  (void)c;
  appose_error *err = NULL;
  int64_t pid = -1;
  return ok(env, appose_service_pid(H(s), &pid, &err), err) ? pid : -1;
}

JNIEXPORT jboolean FN(nServiceIsAlive)(JNIEnv *env, jclass c, jlong s) {
  (void)c;
  appose_error *err = NULL;
  bool alive = false;
  return ok(env, appose_service_is_alive(H(s), &alive, &err), err) ? (jboolean)alive : JNI_FALSE;
}

/* what: 0 get_var(name), 1 put_var(name, args[0]), 2 call(name, args). */
JNIEXPORT jlong FN(nServiceVarTask)(JNIEnv *env, jclass c, jlong s, jint what, jbyteArray name, jlongArray args,
                                    jbyteArray queue) {
  (void)c;
  appose_error *err = NULL;
  appose_task *t = NULL;
  size_t nargs = 0;
  const appose_value **vals = values_in(env, args, &nargs);
  if (vals == NULL) {
    throw_status(env, APPOSE_STATUS_IO, NULL);
    return 0;
  }
  cstr n = str_in(env, name), q = str_in(env, queue);
  appose_status st;
  if (what == 0) {
    st = appose_service_get_var_task(H(s), CS(n), CS(q), &t, &err);
  } else if (what == 1) {
    st = appose_service_put_var_task(H(s), CS(n), vals[0], CS(q), &t, &err);
  } else {
    st = appose_service_call_task(H(s), CS(n), vals, nargs, CS(q), &t, &err);
  }
  free(vals);
  str_done(env, n);
  str_done(env, q);
  return ok(env, st, err) ? (jlong)(intptr_t)t : 0;
}

JNIEXPORT jlong FN(nServiceProxy)(JNIEnv *env, jclass c, jlong s, jbyteArray var, jbyteArray queue) {
  (void)c;
  appose_error *err = NULL;
  appose_worker_object *w = NULL;
  cstr v = str_in(env, var), q = str_in(env, queue);
  appose_status st = appose_service_proxy(H(s), CS(v), CS(q), &w, &err);
  str_done(env, v);
  str_done(env, q);
  return ok(env, st, err) ? (jlong)(intptr_t)w : 0;
}

/* --- task --------------------------------------------------------------- */

JNIEXPORT void FN(nTaskListen)(JNIEnv *env, jclass c, jlong t, jobject listener) {
  (void)c;
  jobject ref = (*env)->NewGlobalRef(env, listener);
  if (ref == NULL) return;
  appose_error *err = NULL;
  appose_status st = appose_task_listen(H(t), on_task_event, ref, drop_ref, &err);
  if (st != APPOSE_STATUS_OK) (*env)->DeleteGlobalRef(env, ref);
  ok(env, st, err);
}

JNIEXPORT void FN(nTaskStart)(JNIEnv *env, jclass c, jlong t) {
  (void)c;
  appose_error *err = NULL;
  ok(env, appose_task_start(H(t), &err), err);
}

/* The task's outcome as a status; only an error other than the task's own
   ending or a timeout is thrown. */
JNIEXPORT jint FN(nTaskWait)(JNIEnv *env, jclass c, jlong t, jlong timeout_ms) {
  (void)c;
  appose_error *err = NULL;
  appose_status st = appose_task_wait(H(t), timeout_ms, &err);
  switch (st) {
    case APPOSE_STATUS_OK:
    case APPOSE_STATUS_TASK_FAILED:
    case APPOSE_STATUS_TASK_CANCELED:
    case APPOSE_STATUS_TASK_CRASHED:
    case APPOSE_STATUS_TIMEOUT:
      if (err != NULL) appose_error_free(err);
      return (jint)st;
    default:
      throw_status(env, st, err);
      return (jint)st;
  }
}

JNIEXPORT void FN(nTaskCancel)(JNIEnv *env, jclass c, jlong t) {
  (void)c;
  appose_error *err = NULL;
  ok(env, appose_task_cancel(H(t), &err), err);
}

JNIEXPORT jint FN(nTaskStatus)(JNIEnv *env, jclass c, jlong t) {
  (void)c;
  appose_error *err = NULL;
  appose_task_status s = 0;
  return ok(env, appose_task_get_status(H(t), &s, &err), err) ? (jint)s : -1;
}

/* what: 0 outputs JSON, 1 error text (null when none). */
JNIEXPORT jstring FN(nTaskText)(JNIEnv *env, jclass c, jlong t, jint what) {
  (void)c;
  appose_error *err = NULL;
  char *s = NULL;
  appose_status st = what == 0 ? appose_task_outputs_json(H(t), &s, &err) : appose_task_error(H(t), &s, &err);
  return ok(env, st, err) ? take_str(env, s) : NULL;
}

JNIEXPORT jlong FN(nTaskOutputs)(JNIEnv *env, jclass c, jlong t) {
  (void)c;
  appose_error *err = NULL;
  appose_map *m = NULL;
  return ok(env, appose_task_outputs(H(t), &m, &err), err) ? (jlong)(intptr_t)m : 0;
}

/* --- values ------------------------------------------------------------- */

/* what: 0 map member, 1 value member (by key), 2 value item (by index). */
JNIEXPORT jlong FN(nValueChild)(JNIEnv *env, jclass c, jlong h, jint what, jbyteArray key, jlong index) {
  (void)c;
  appose_error *err = NULL;
  appose_value *out = NULL;
  appose_status st;
  if (what == 2) {
    st = appose_value_at(H(h), (size_t)index, &out, &err);
  } else {
    cstr k = str_in(env, key);
    st = what == 0 ? appose_map_get_value(H(h), CS(k), &out, &err) : appose_value_get(H(h), CS(k), &out, &err);
    str_done(env, k);
  }
  return ok(env, st, err) ? (jlong)(intptr_t)out : 0;
}

JNIEXPORT jlong FN(nValueFromJson)(JNIEnv *env, jclass c, jbyteArray json) {
  (void)c;
  appose_error *err = NULL;
  appose_value *out = NULL;
  cstr j = str_in(env, json);
  appose_status st = appose_value_from_json(CS(j), &out, &err);
  str_done(env, j);
  return ok(env, st, err) ? (jlong)(intptr_t)out : 0;
}

/* what: 0 ndarray, 1 shm, 2 worker object (each a new handle). */
JNIEXPORT jlong FN(nValueTake)(JNIEnv *env, jclass c, jlong v, jint what) {
  (void)c;
  appose_error *err = NULL;
  appose_status st;
  if (what == 0) {
    appose_ndarray *a = NULL;
    st = appose_value_ndarray(H(v), &a, &err);
    return ok(env, st, err) ? (jlong)(intptr_t)a : 0;
  }
  if (what == 1) {
    appose_shm *s = NULL;
    st = appose_value_shm(H(v), &s, &err);
    return ok(env, st, err) ? (jlong)(intptr_t)s : 0;
  }
  appose_worker_object *w = NULL;
  st = appose_value_worker_object(H(v), &w, &err);
  return ok(env, st, err) ? (jlong)(intptr_t)w : 0;
}

JNIEXPORT jlong FN(nValueFromWorkerObject)(JNIEnv *env, jclass c, jlong w) {
  (void)c;
  appose_error *err = NULL;
  appose_value *out = NULL;
  return ok(env, appose_value_from_worker_object(H(w), &out, &err), err) ? (jlong)(intptr_t)out : 0;
}

/* --- worker objects ----------------------------------------------------- */

JNIEXPORT jstring FN(nWorkerObjectName)(JNIEnv *env, jclass c, jlong w) {
  (void)c;
  appose_error *err = NULL;
  char *s = NULL;
  return ok(env, appose_worker_object_name(H(w), &s, &err), err) ? take_str(env, s) : NULL;
}

/* what: 0 attr(name), 1 invoke(name, args), 2 call(args), 3 dir. */
JNIEXPORT jlong FN(nWorkerObjectTask)(JNIEnv *env, jclass c, jlong w, jint what, jbyteArray name,
                                      jlongArray args) {
  (void)c;
  appose_error *err = NULL;
  appose_task *t = NULL;
  size_t nargs = 0;
  const appose_value **vals = values_in(env, args, &nargs);
  if (vals == NULL) {
    throw_status(env, APPOSE_STATUS_IO, NULL);
    return 0;
  }
  cstr n = str_in(env, name);
  appose_status st;
  switch (what) {
    case 0: st = appose_worker_object_attr_task(H(w), CS(n), &t, &err); break;
    case 1: st = appose_worker_object_invoke_task(H(w), CS(n), vals, nargs, &t, &err); break;
    case 2: st = appose_worker_object_call_task(H(w), vals, nargs, &t, &err); break;
    default: st = appose_worker_object_dir_task(H(w), &t, &err); break;
  }
  free(vals);
  str_done(env, n);
  return ok(env, st, err) ? (jlong)(intptr_t)t : 0;
}

/* --- shared memory and arrays ------------------------------------------- */

/* name == null: a new block of `size` bytes; else attach (size > 0: at
   least that many bytes). */
JNIEXPORT jlong FN(nShmOpen)(JNIEnv *env, jclass c, jbyteArray name, jlong size) {
  (void)c;
  appose_error *err = NULL;
  appose_shm *s = NULL;
  appose_status st;
  if (name == NULL) {
    st = appose_shm_create((size_t)size, &s, &err);
  } else {
    cstr n = str_in(env, name);
    st = size > 0 ? appose_shm_attach_sized(CS(n), (size_t)size, &s, &err) : appose_shm_attach(CS(n), &s, &err);
    str_done(env, n);
  }
  return ok(env, st, err) ? (jlong)(intptr_t)s : 0;
}

JNIEXPORT jstring FN(nShmName)(JNIEnv *env, jclass c, jlong s) {
  (void)c;
  appose_error *err = NULL;
  char *n = NULL;
  return ok(env, appose_shm_name(H(s), &n, &err), err) ? take_str(env, n) : NULL;
}

/* what: 0 size, 1 rsize. */
JNIEXPORT jlong FN(nShmSize)(JNIEnv *env, jclass c, jlong s, jint what) {
  (void)c;
  appose_error *err = NULL;
  size_t n = 0;
  appose_status st = what == 0 ? appose_shm_size(H(s), &n, &err) : appose_shm_rsize(H(s), &n, &err);
  return ok(env, st, err) ? (jlong)n : -1;
}

/* A direct buffer over `size` bytes of a block's (what 0) or an array's
   (what 1) memory; the Java side keeps the handle alive with it. */
JNIEXPORT jobject FN(nBuffer)(JNIEnv *env, jclass c, jlong h, jint what, jlong size) {
  (void)c;
  appose_error *err = NULL;
  void *data = NULL;
  appose_status st = what == 0 ? appose_shm_data(H(h), &data, &err) : appose_ndarray_data(H(h), &data, &err);
  if (!ok(env, st, err)) return NULL;
  return (*env)->NewDirectByteBuffer(env, data, size);
}

JNIEXPORT void FN(nShmUnlink)(JNIEnv *env, jclass c, jlong s) {
  (void)c;
  appose_error *err = NULL;
  ok(env, appose_shm_unlink(H(s), &err), err);
}

JNIEXPORT void FN(nShmSetUnlinkOnFree)(JNIEnv *env, jclass c, jlong s, jboolean unlink) {
  (void)c;
  appose_error *err = NULL;
  ok(env, appose_shm_set_unlink_on_free(H(s), unlink != JNI_FALSE, &err), err);
}

/* shm == 0: a new array; else an array over that block. */
JNIEXPORT jlong FN(nNdarrayNew)(JNIEnv *env, jclass c, jlong shm, jint dtype, jlongArray shape) {
  (void)c;
  appose_error *err = NULL;
  appose_ndarray *a = NULL;
  jsize ndim = (*env)->GetArrayLength(env, shape);
  size_t *dims = calloc((size_t)ndim + 1, sizeof *dims);
  if (dims == NULL) {
    throw_status(env, APPOSE_STATUS_IO, NULL);
    return 0;
  }
  if (ndim > 0) {
    jlong *d = (*env)->GetLongArrayElements(env, shape, NULL);
    for (jsize i = 0; i < ndim; i++) dims[i] = (size_t)d[i];
    (*env)->ReleaseLongArrayElements(env, shape, d, JNI_ABORT);
  }
  appose_status st = shm == 0 ? appose_ndarray_new(dtype, dims, (size_t)ndim, APPOSE_ORDER_C, &a, &err)
                              : appose_ndarray_wrap(H(shm), dtype, dims, (size_t)ndim, APPOSE_ORDER_C, &a, &err);
  free(dims);
  return ok(env, st, err) ? (jlong)(intptr_t)a : 0;
}

/* [dtype, byte length, dims...] with dims in C order. */
JNIEXPORT jlongArray FN(nNdarrayInfo)(JNIEnv *env, jclass c, jlong a) {
  (void)c;
  appose_error *err = NULL;
  int dtype = 0;
  size_t ndim = 0, len = 0;
  if (!ok(env, appose_ndarray_dtype(H(a), &dtype, &err), err)) return NULL;
  if (!ok(env, appose_ndarray_ndim(H(a), &ndim, &err), err)) return NULL;
  if (!ok(env, appose_ndarray_byte_length(H(a), &len, &err), err)) return NULL;
  jlong *info = calloc(ndim + 2, sizeof *info);
  size_t *dims = calloc(ndim + 1, sizeof *dims);
  jlongArray out = NULL;
  if (info == NULL || dims == NULL) {
    throw_status(env, APPOSE_STATUS_IO, NULL);
  } else if (ok(env, appose_ndarray_shape(H(a), APPOSE_ORDER_C, dims, ndim, &err), err)) {
    info[0] = dtype;
    info[1] = (jlong)len;
    for (size_t i = 0; i < ndim; i++) info[2 + i] = (jlong)dims[i];
    out = (*env)->NewLongArray(env, (jsize)(ndim + 2));
    if (out != NULL) (*env)->SetLongArrayRegion(env, out, 0, (jsize)(ndim + 2), info);
  }
  free(info);
  free(dims);
  return out;
}

JNIEXPORT jlong FN(nNdarrayShm)(JNIEnv *env, jclass c, jlong a) {
  (void)c;
  appose_error *err = NULL;
  appose_shm *s = NULL;
  return ok(env, appose_ndarray_shm(H(a), &s, &err), err) ? (jlong)(intptr_t)s : 0;
}

JNIEXPORT jlong FN(nValueFromNdarray)(JNIEnv *env, jclass c, jlong a) {
  (void)c;
  appose_error *err = NULL;
  appose_value *out = NULL;
  return ok(env, appose_value_from_ndarray(H(a), &out, &err), err) ? (jlong)(intptr_t)out : 0;
}

/* --- freeing ------------------------------------------------------------ */

/* kind: 0 builder, 1 env, 2 service, 3 task, 4 map, 5 value, 6 worker
   object, 7 shm, 8 ndarray. */
JNIEXPORT void FN(nFree)(JNIEnv *env, jclass c, jint kind, jlong h) {
  (void)env;
  (void)c;
  switch (kind) {
    case 0: appose_builder_free(H(h)); break;
    case 1: appose_env_free(H(h)); break;
    case 2: appose_service_free(H(h)); break;
    case 3: appose_task_free(H(h)); break;
    case 4: appose_map_free(H(h)); break;
    case 5: appose_value_free(H(h)); break;
    case 6: appose_worker_object_free(H(h)); break;
    case 7: appose_shm_free(H(h)); break;
    default: appose_ndarray_free(H(h)); break;
  }
}
