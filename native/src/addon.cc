// The N-API boundary, and nothing else: unpack the tape once into an external object,
// take typed arrays by pointer (no per-node copies), call the engine, report errors as
// JavaScript exceptions. One call per tape run. Every entry is guarded: no C++
// exception (a passed deadline, memory, a thread that cannot start) crosses into Node
// other than as a JavaScript error with a code; nothing here can abort the process.
#include <malloc.h>
#if defined(__linux__)
#include <sys/prctl.h>
#include <sys/wait.h>
#endif
#include <napi.h>

#include <cmath>
#include <memory>
#include <new>
#include <string>
#include <thread>

#include "engine.h"
#include "gemm.h"

namespace {

using ag::Compiled;

template <class T>
struct ArrayKind;
template <>
struct ArrayKind<double> {
  static constexpr napi_typedarray_type type = napi_float64_array;
  static constexpr const char* name = "Float64Array";
};
template <>
struct ArrayKind<int32_t> {
  static constexpr napi_typedarray_type type = napi_int32_array;
  static constexpr const char* name = "Int32Array";
};
template <>
struct ArrayKind<uint8_t> {
  static constexpr napi_typedarray_type type = napi_uint8_array;
  static constexpr const char* name = "Uint8Array";
};

/** The typed array's memory, checked for type and (when want >= 0) length. */
template <class T>
T* dataOf(Napi::Env env, const Napi::Value& v, int64_t want, const char* what, size_t* len = nullptr) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != ArrayKind<T>::type)
    throw Napi::TypeError::New(env, std::string(what) + " must be a " + ArrayKind<T>::name);
  auto a = v.As<Napi::TypedArrayOf<T>>();
  if (want >= 0 && (int64_t)a.ElementLength() != want)
    throw Napi::RangeError::New(env, std::string(what) + " has " + std::to_string(a.ElementLength()) + " entries, not " + std::to_string(want));
  if (len) *len = a.ElementLength();
  return a.Data();
}

/** A JavaScript Error with a `code` property (ETIMEDOUT, ENOMEM, ENATIVE) for native.ts to tell apart. */
Napi::Error coded(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  return e;
}

/** Every exported function runs inside this: C++ exceptions become JavaScript errors. */
template <Napi::Value (*F)(const Napi::CallbackInfo&)>
Napi::Value Guarded(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  try {
    return F(info);
  } catch (const Napi::Error&) {
    throw;
  } catch (const ag::Timeout&) {
    throw coded(env, "ETIMEDOUT", "native engine: the deadline passed");
  } catch (const std::bad_alloc&) {
    throw coded(env, "ENOMEM", "native engine: out of memory");
  } catch (const std::exception& e) {
    throw coded(env, "ENATIVE", std::string("native engine: ") + e.what());
  } catch (...) {
    throw coded(env, "ENATIVE", "native engine: an unknown failure");
  }
}

/** The optional deadline argument: milliseconds from now (absent, negative or Infinity: none). */
ag::Deadline deadlineArg(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i || !info[i].IsNumber()) return ag::Deadline();
  return ag::Deadline::in(info[i].As<Napi::Number>().DoubleValue());
}

Compiled& handle(Napi::Env env, const Napi::Value& v) {
  if (!v.IsExternal()) throw Napi::TypeError::New(env, "not a compiled tape");
  return *v.As<Napi::External<Compiled>>().Data();
}

Napi::Value OpNames(const Napi::CallbackInfo& info) {
  const auto& table = ag::opTable();
  Napi::Array names = Napi::Array::New(info.Env(), table.size());
  for (size_t i = 0; i < table.size(); i++) names.Set((uint32_t)i, table[i].name);
  return names;
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("blas", ag::blasName());
  o.Set("blasFrom", ag::blasFrom());
  o.Set("blasThreads", ag::blasThreads());
  o.Set("avx512Products", ag::avx512Products());
  o.Set("threads", ag::defaultThreads());
  o.Set("hardwareThreads", (double)std::thread::hardware_concurrency());
#if defined(__clang__)
  o.Set("compiler", std::string("clang ") + __clang_version__);
#elif defined(__GNUC__)
  o.Set("compiler", std::string("g++ ") + __VERSION__);
#else
  o.Set("compiler", "unknown");
#endif
  o.Set("buildType", AG_BUILD_TYPE);
  o.Set("buildSystem", AG_BUILD_SYSTEM);
  o.Set("sanitizers", AG_SANITIZERS);
  o.Set("napiVersion", NAPI_VERSION);
  o.Set("gemmSmall", ag::GEMM_SMALL);
  return o;
}

/** Bytes the C/C++ heap (malloc) has in use, for the memory tests: RSS also moves with V8's pages. */
Napi::Value MallocInUse(const Napi::CallbackInfo& info) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  const struct mallinfo2 m = mallinfo2();
  return Napi::Number::New(info.Env(), (double)(m.uordblks + m.hblkhd));
#else
  return info.Env().Null();
#endif
}

/**
 * Make this process the child subreaper (Linux): a program's descendants that leave its
 * process group (setsid) are reparented here when their parent dies, so the run can end
 * them (src/check/reaper.ts). False where the platform has no such thing.
 */
Napi::Value ChildSubreaper(const Napi::CallbackInfo& info) {
#if defined(__linux__) && defined(PR_SET_CHILD_SUBREAPER)
  return Napi::Boolean::New(info.Env(), prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

/** Collect the exit of a reparented process that libuv never spawned (no zombie stays); true once it is gone. */
Napi::Value Reap(const Napi::CallbackInfo& info) {
#if defined(__linux__)
  if (!info[0].IsNumber()) throw Napi::TypeError::New(info.Env(), "reap needs a pid");
  int status = 0;
  const pid_t pid = (pid_t)info[0].As<Napi::Number>().Int32Value();
  return Napi::Boolean::New(info.Env(), pid > 0 && waitpid(pid, &status, WNOHANG) == pid);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

/**
 * compile({ops, inputStart, inputs, rank, dims, offsets, sizes, active, axis, ord,
 *          gatherStart, gather, output, arenaSize, inputNodes, slots, keep?}) → {handle}
 * keep: the nodes the caller reads besides the output (Int32Array); absent or null: any
 * node may be read, so every node is computed.
 */
Napi::Value Compile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) throw Napi::TypeError::New(env, "compile needs a tape description");
  Napi::Object s = info[0].As<Napi::Object>();
  size_t N = 0;
  const int32_t* ops = dataOf<int32_t>(env, s.Get("ops"), -1, "ops", &N);
  const int32_t* inputStart = dataOf<int32_t>(env, s.Get("inputStart"), (int64_t)N + 1, "inputStart");
  size_t nIn = 0;
  const int32_t* inputs = dataOf<int32_t>(env, s.Get("inputs"), -1, "inputs", &nIn);
  const int32_t* rank = dataOf<int32_t>(env, s.Get("rank"), (int64_t)N, "rank");
  const double* dims = dataOf<double>(env, s.Get("dims"), 2 * (int64_t)N, "dims");
  const double* offsets = dataOf<double>(env, s.Get("offsets"), (int64_t)N, "offsets");
  const double* sizes = dataOf<double>(env, s.Get("sizes"), (int64_t)N, "sizes");
  const uint8_t* active = dataOf<uint8_t>(env, s.Get("active"), (int64_t)N, "active");
  const int32_t* axis = dataOf<int32_t>(env, s.Get("axis"), (int64_t)N, "axis");
  const int32_t* ord = dataOf<int32_t>(env, s.Get("ord"), (int64_t)N, "ord");
  const double* gatherStart = dataOf<double>(env, s.Get("gatherStart"), (int64_t)N + 1, "gatherStart");
  size_t nGather = 0;
  const int32_t* gather = dataOf<int32_t>(env, s.Get("gather"), -1, "gather", &nGather);
  size_t nInputs = 0, nSlots = 0;
  const int32_t* inputNodes = dataOf<int32_t>(env, s.Get("inputNodes"), -1, "inputNodes", &nInputs);
  const double* slots = dataOf<double>(env, s.Get("slots"), -1, "slots", &nSlots);
  const Napi::Value keepArg = s.Get("keep");
  size_t nKeep = 0;
  const bool keepGiven = !keepArg.IsUndefined() && !keepArg.IsNull();
  const int32_t* keep = keepGiven ? dataOf<int32_t>(env, keepArg, -1, "keep", &nKeep) : nullptr;

  // owned until handed to JavaScript: an exception on the way frees it
  std::unique_ptr<Compiled> c(new Compiled());
  ag::Tape& t = c->tape;
  t.output = s.Get("output").As<Napi::Number>().Int32Value();
  t.arenaSize = (int64_t)s.Get("arenaSize").As<Napi::Number>().DoubleValue();
  t.inputs.assign(inputs, inputs + nIn);
  t.gather.assign(gather, gather + nGather);
  t.inputNodes.assign(inputNodes, inputNodes + nInputs);
  t.slots.resize(nSlots);
  t.keepGiven = keepGiven;
  if (keepGiven) t.keep.assign(keep, keep + nKeep);
  for (size_t i = 0; i < nSlots; i++) t.slots[i] = (int64_t)slots[i];
  t.nodes.resize(N);
  for (size_t i = 0; i < N; i++) {
    ag::Node& n = t.nodes[i];
    n.op = ops[i];
    n.firstInput = inputStart[i];
    n.nInputs = inputStart[i + 1] - inputStart[i];
    n.rank = rank[i];
    n.dims[0] = (int64_t)dims[2 * i];
    n.dims[1] = (int64_t)dims[2 * i + 1];
    n.size = (int64_t)sizes[i];
    n.offset = (int64_t)offsets[i];
    n.active = active[i] != 0;
    n.axis = axis[i];
    n.ord = ord[i];
    n.firstGather = (int64_t)gatherStart[i];
    n.nGather = (int64_t)gatherStart[i + 1] - n.firstGather;
  }
  const std::string why = ag::finishTape(*c);
  if (!why.empty()) throw Napi::Error::New(env, "native engine: " + why);
  Napi::Object result = Napi::Object::New(env);
  result.Set("handle", Napi::External<Compiled>::New(env, c.release(), [](Napi::Env, Compiled* p) { delete p; }));
  return result;
}

double* arenaOf(Napi::Env env, const Compiled& c, const Napi::Value& v, const char* what = "the arena") {
  return dataOf<double>(env, v, c.tape.arenaSize, what);
}

/**
 * forward(handle, arena, deadlineMs?, fromNode?): every computed node's value from node
 * `fromNode` (default 0) on, in place. A derivative tape is the original tape with nodes
 * appended: when the original part's values are in the arena already, only the rest runs.
 */
Napi::Value Forward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Compiled& c = handle(env, info[0]);
  double* arena = arenaOf(env, c, info[1]);
  int64_t from = 0;
  if (info.Length() > 3 && !info[3].IsUndefined()) {
    const double f = info[3].IsNumber() ? info[3].As<Napi::Number>().DoubleValue() : -1;
    if (!(f >= 0 && f <= (double)c.tape.nodes.size() && f == std::floor(f)))
      throw Napi::RangeError::New(env, "fromNode must be a node index of the tape (0 to " + std::to_string(c.tape.nodes.size()) + ")");
    from = (int64_t)f;
  }
  ag::forward(c.tape, arena, c.scratch, deadlineArg(info, 2), from);
  return env.Undefined();
}

/** evaluate(handle, arena, coord, delta, direction | null, values, branches, threads?, deadlineMs?) */
Napi::Value Evaluate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Compiled& c = handle(env, info[0]);
  const double* arena = arenaOf(env, c, info[1]);
  size_t count = 0;
  const int32_t* coord = dataOf<int32_t>(env, info[2], -1, "coord", &count);
  const double* delta = dataOf<double>(env, info[3], (int64_t)count, "delta");
  const int64_t nSlots = (int64_t)c.tape.slots.size();
  const double* direction = info[4].IsNull() || info[4].IsUndefined() ? nullptr : dataOf<double>(env, info[4], nSlots, "direction");
  double* values = dataOf<double>(env, info[5], (int64_t)count, "values");
  double* branches = dataOf<double>(env, info[6], (int64_t)count, "branches");
  for (size_t p = 0; p < count; p++) {
    if (coord[p] >= nSlots || coord[p] < -1 || (coord[p] == -1 && !direction))
      throw Napi::RangeError::New(env, "coord " + std::to_string(coord[p]) + " is not an input entry (or -1 with a direction)");
  }
  // threads: at most what the caller allows (each holds a copy of the arena), never more than the engine's own
  int threads = ag::defaultThreads();
  if (info.Length() > 7 && info[7].IsNumber()) {
    const double want = info[7].As<Napi::Number>().DoubleValue();
    if (want >= 1 && want < threads) threads = (int)want;
  }
  ag::evaluate(c, arena, (int64_t)count, coord, delta, direction, values, branches, threads, deadlineArg(info, 8));
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("opNames", Napi::Function::New(env, Guarded<OpNames>, "opNames"));
  exports.Set("info", Napi::Function::New(env, Guarded<Info>, "info"));
  exports.Set("mallocInUse", Napi::Function::New(env, Guarded<MallocInUse>, "mallocInUse"));
  exports.Set("childSubreaper", Napi::Function::New(env, Guarded<ChildSubreaper>, "childSubreaper"));
  exports.Set("reap", Napi::Function::New(env, Guarded<Reap>, "reap"));
  exports.Set("compile", Napi::Function::New(env, Guarded<Compile>, "compile"));
  exports.Set("forward", Napi::Function::New(env, Guarded<Forward>, "forward"));
  exports.Set("evaluate", Napi::Function::New(env, Guarded<Evaluate>, "evaluate"));
  return exports;
}

}  // namespace

NODE_API_MODULE(autograd_native, Init)
