"""autograd-cli's adapter for `gradcheck --python FILE#FN` and `gradcheck --torch FILE#FN`.

The CLI starts it once as

    python3 autograd_cli_adapter.py FILE FN --mode numpy|torch --dtype D --wrt '["W", "x"]'

and it speaks the JSON-lines protocol of `gradcheck --exec` (README "Any program"), in
its batched form, so the user writes no protocol code:

- numpy: FN(**inputs) gets NumPy arrays in dtype D and returns (value, gradients):
  the gradients as a dict by input name, a tuple in the order of FN's parameters, or
  one array when one input is checked. A tensor-valued FN returns (value, backward)
  instead, backward(dout) giving the gradients of sum(dout * value) in those forms.
- torch: FN(**inputs) gets torch tensors in dtype D (the checked ones requires_grad)
  and returns a tensor; the gradients come from torch.autograd, which runs the custom
  autograd.Function backward passes under test.

Values and gradients are sent exactly as computed (a float32 as its exact double), so
the CLI can tell the precision. Whatever FN prints goes to stderr. Anything that goes
wrong is one line in an "error" answer, which the CLI prints after its label.
"""
import importlib.util
import inspect
import json
import os
import sys

DTYPES = ("float64", "float32", "float16", "bfloat16")
MAX_MESSAGE = 300


class Failure(Exception):
    """A one-line message for the user (the CLI prefixes it with --python FILE#FN)."""


def one_line(text):
    text = " ".join(str(text).split())
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def raised(name, e):
    return Failure(one_line(f"{name} raised {type(e).__name__}: {e}" if str(e) else f"{name} raised {type(e).__name__}"))


def shape_text(shape):
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def describe(v):
    if isinstance(v, tuple):
        return f"a tuple of {len(v)}"
    if isinstance(v, list):
        return f"a list of {len(v)}"
    return "None" if v is None else f"a {type(v).__name__}"


def need(module):
    """The module imported, or the one line that says it is missing and what to do."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        missing = getattr(e, "name", None) or module
        raise Failure(f"{module} cannot be imported by {sys.executable} ({one_line(e) if missing != module else 'not installed'}): "
                      f"install it for this Python (pip install {module}), or give --interpreter a Python that has it")


def load(path, fn_name):
    """The module at path (its folder first on sys.path, as when run as a script) and FN in it."""
    folder = os.path.dirname(os.path.abspath(path))
    sys.path.insert(0, folder)
    stem = os.path.splitext(os.path.basename(path))[0]
    modname = stem if stem.isidentifier() and stem not in sys.modules else "autograd_cli_target"
    try:
        spec = importlib.util.spec_from_file_location(modname, os.path.abspath(path))
        mod = importlib.util.module_from_spec(spec)
        sys.modules[modname] = mod
        spec.loader.exec_module(mod)
    except (Exception, SystemExit) as e:
        raise Failure(one_line(f"cannot load {os.path.basename(path)}: {type(e).__name__}: {e}"))
    obj = mod
    for i, part in enumerate(fn_name.split(".")):
        if not hasattr(obj, part):
            where = os.path.basename(path) if i == 0 else ".".join(fn_name.split(".")[:i])
            own = [k for k, v in vars(mod).items() if callable(v) and getattr(v, "__module__", None) == modname and not k.startswith("_")]
            have = f" (it defines {', '.join(own[:12])})" if i == 0 and own else ""
            raise Failure(f"{where} has no {'function' if i == len(fn_name.split('.')) - 1 else 'attribute'} called {part}{have}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise Failure(f"{fn_name} in {os.path.basename(path)} is not a function (it is {describe(obj)})")
    return obj


def parameter_order(fn, names):
    """The input names in the order of FN's parameters (then any others in the order given)."""
    try:
        params = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        params = []
    first = [p for p in params if p in names]
    return first + [n for n in names if n not in first]


class Adapter:
    """FN with its inputs converted, its value read, its gradients named and shape-checked."""

    def __init__(self, name, mode, dtype, wrt):
        self.fn, self.name, self.mode, self.wrt = None, name, mode, wrt
        if mode == "torch":
            self.torch = need("torch")
            self.dtype = getattr(self.torch, dtype)
        else:
            self.np = need("numpy")
            if dtype == "bfloat16":
                raise Failure("NumPy has no bfloat16: check it under --torch")
            self.dtype = self.np.dtype(dtype)
        self.positional = None

    def use(self, fn):
        """FN; a torch.autograd.Function (or its apply) is called with its forward's parameters, in order."""
        self.fn = fn
        if self.mode != "torch":
            return
        Function = self.torch.autograd.Function
        owner = fn if isinstance(fn, type) else getattr(fn, "__self__", None)
        if isinstance(owner, type) and issubclass(owner, Function):
            self.fn = owner.apply
            self.positional = list(inspect.signature(owner.forward).parameters.values())[1:]

    # --- inputs and outputs ---

    def inputs(self, values, grad):
        if self.mode == "torch":
            torch = self.torch
            return {k: torch.tensor(v, dtype=self.dtype, requires_grad=grad and k in self.wrt) for k, v in values.items()}
        return {k: self.np.asarray(v, dtype=self.dtype) for k, v in values.items()}

    def plain(self, v, what):
        """v as nested lists of Python floats (exact), or a message naming what it is."""
        if self.mode == "torch":
            if not isinstance(v, self.torch.Tensor):
                raise Failure(f"{what} must be a tensor, not {describe(v)}")
            return v.detach().cpu().tolist()
        try:
            a = self.np.asarray(v)
        except Exception:
            a = None
        if a is None or a.dtype.kind not in "fiub":
            raise Failure(f"{what} must be a number or an array of numbers, not {describe(v)}")
        return a.tolist()

    def call(self, values, grad):
        ins = self.inputs(values, grad)
        try:
            out = self.fn(*self.arguments(ins)) if self.positional is not None else self.fn(**ins)
        except (Exception, SystemExit) as e:
            raise raised(self.name, e)
        if self.mode == "torch":
            if isinstance(out, (tuple, list)):
                raise Failure(f"{self.name} returned {describe(out)}: under --torch it returns its value as one tensor, "
                              "and torch.autograd gives the gradients (--python checks a function that returns (value, gradients))")
            if not isinstance(out, self.torch.Tensor):
                raise Failure(f"{self.name} must return a tensor, not {describe(out)}")
            return ins, out, None
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise Failure(f"{self.name} must return (value, gradients), not {describe(out)}")
        return ins, out[0], out[1]

    def arguments(self, ins):
        """The inputs in the order of the Function's forward (apply takes no keywords)."""
        names = [p.name for p in self.positional]
        extra = [k for k in ins if k not in names]
        if extra:
            raise Failure(f"{self.name}: its forward takes no input called {', '.join(extra)} (it takes {', '.join(names) or 'none'})")
        args = []
        for p in self.positional:
            if p.name in ins:
                args.append(ins[p.name])
            elif p.default is not p.empty:
                args.append(p.default)
            else:
                raise Failure(f"{self.name}: its forward takes {', '.join(names)}, and --at gives no {p.name}")
        return args

    # --- requests ---

    def value(self, values):
        if self.mode == "torch":
            with self.torch.no_grad():
                return self.plain(self.call(values, False)[1], f"{self.name}'s value")
        return self.numpy_value(*self.call(values, False)[1:])

    def numpy_value(self, value, grads):
        """The value; a loss of one entry returned with its gradients (not a backward) is a scalar, whatever its shape."""
        plain = self.plain(value, f"{self.name}'s value")
        return self.np.asarray(value).item() if not callable(grads) and self.np.size(value) == 1 else plain

    def gradient(self, values, cotangent):
        ins, value, grads = self.call(values, True)
        plain = self.plain(value, f"{self.name}'s value") if self.mode == "torch" else self.numpy_value(value, grads)
        if self.mode == "torch":
            grads = self.torch_gradients(ins, value, cotangent)
        else:
            grads = self.numpy_gradients(ins, value, grads, cotangent)
        return plain, self.named(ins, grads)

    def torch_gradients(self, ins, value, cotangent):
        torch = self.torch
        if not value.requires_grad:
            raise Failure(f"{self.name}'s value does not depend on {', '.join(self.wrt)} through torch: it has no grad_fn "
                          "(was it computed through .detach(), .numpy(), .item() or under no_grad?)")
        dout = None if cotangent is None else torch.tensor(cotangent, dtype=value.dtype).reshape(value.shape)
        try:
            got = torch.autograd.grad(value, [ins[k] for k in self.wrt], grad_outputs=dout, allow_unused=True)
        except Exception as e:
            raise raised(f"{self.name}'s backward", e)
        # an input the value does not use has gradient zero (as torch.autograd.gradcheck takes it)
        return {k: torch.zeros_like(ins[k]) if g is None else g for k, g in zip(self.wrt, got)}

    def numpy_gradients(self, ins, value, grads, cotangent):
        np = self.np
        if callable(grads):
            dout = np.asarray(1.0 if cotangent is None else cotangent, dtype=self.dtype).reshape(np.shape(value))
            try:
                return grads(dout)
            except Exception as e:
                raise raised(f"{self.name}'s backward", e)
        if cotangent is not None:
            raise Failure(f"{self.name}'s value has shape {shape_text(np.shape(value))}: a tensor-valued function returns "
                          "(value, backward), backward(dout) giving the gradients of sum(dout * value)")
        return grads

    def named(self, ins, grads):
        """The gradients as {input: nested lists}, each checked against its input's shape."""
        wrt = self.wrt
        if isinstance(grads, dict):
            missing = [k for k in wrt if k not in grads]
            if missing:
                raise Failure(f"{self.name}'s gradients have no entry for {', '.join(missing)} (they have {', '.join(map(str, grads)) or 'none'})")
            by_name = grads
        elif isinstance(grads, (tuple, list)):
            order = parameter_order(self.fn, list(ins))
            checked = [k for k in order if k in wrt]
            if len(grads) == len(order):
                by_name = dict(zip(order, grads))
            elif len(grads) == len(checked):
                by_name = dict(zip(checked, grads))
            else:
                raise Failure(f"{self.name} returned {len(grads)} gradient{'' if len(grads) == 1 else 's'}, but it takes {len(order)} inputs ({', '.join(order)}): "
                              "give one per input in that order, or a dict by name")
        elif len(wrt) == 1:
            by_name = {wrt[0]: grads}
        else:
            raise Failure(f"{self.name} returned one gradient ({describe(grads)}), but {', '.join(wrt)} are checked: "
                          "give a dict by name or a tuple in the order of its parameters")
        out = {}
        for k in wrt:
            g = by_name[k]
            if g is None:
                raise Failure(f"{self.name}'s gradient for {k} is None")
            plain = self.plain(g, f"{self.name}'s gradient for {k}")
            got, want = tuple(self.shape_of(g)), tuple(ins[k].shape)
            if got != want and not (self.size(got) == self.size(want) == 1):
                transposed = len(got) == 2 and got == want[::-1]
                raise Failure(f"{self.name}'s gradient for {k} has shape {shape_text(got)}, but {k} has shape {shape_text(want)}"
                              + (": the transpose (a transposed weight gradient?)" if transposed else ""))
            out[k] = plain
        return out

    def shape_of(self, v):
        return v.shape if self.mode == "torch" else self.np.shape(v)

    @staticmethod
    def size(shape):
        n = 1
        for d in shape:
            n *= d
        return n


def arguments(argv):
    """FILE FN --mode M --dtype D --wrt JSON, as the CLI passes them."""
    opts = {"--mode": "numpy", "--dtype": "float64", "--wrt": "[]"}
    rest = argv[2:]
    for i in range(0, len(rest) - 1, 2):
        opts[rest[i]] = rest[i + 1]
    if len(argv) < 2 or opts["--mode"] not in ("numpy", "torch") or opts["--dtype"] not in DTYPES:
        raise Failure(f"the adapter cannot run with the arguments {one_line(argv)}")
    return argv[0], argv[1], opts["--mode"], opts["--dtype"], json.loads(opts["--wrt"])


def main(argv):
    # the protocol keeps stdout's descriptor to itself; FN's prints (and C code's) go to stderr
    proto = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def send(obj):
        proto.write(json.dumps(obj) + "\n")
        proto.flush()

    adapter, setup_error = None, None
    try:
        file, fn_name, mode, dtype, wrt = arguments(argv)
        # numpy or torch first: its absence is the message, not the file's failing import
        adapter = Adapter(fn_name, mode, dtype, wrt)
        adapter.use(load(file, fn_name))
        send({"hello": {"batch": True}})
    except Failure as e:
        setup_error = str(e)
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        try:
            if setup_error is not None:
                raise Failure(setup_error)
            answer = {"id": req["id"]}
            if "batch" in req:
                answer["values"] = [adapter.value(p["values"]) for p in req["batch"]]
            elif "gradient" in req["want"] or "vjp" in req["want"]:
                answer["value"], answer["gradient"] = adapter.gradient(req["values"], req.get("cotangent") if "vjp" in req["want"] else None)
            else:
                answer["value"] = adapter.value(req["values"])
        except Failure as e:
            answer = {"id": req["id"], "error": str(e)}
        except Exception as e:
            answer = {"id": req["id"], "error": one_line(f"the adapter failed on this request: {type(e).__name__}: {e}")}
        send(answer)
    # the check is over: leave without the interpreter's teardown (torch's alone costs ~0.25 s)
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
