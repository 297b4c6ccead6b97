"""Runs aws CLI commands for the end-to-end tests, one per input line.

The process imports the aws CLI's modules once, which is most of what an aws
command costs, then forks a child per command: the child takes the command's
environment and runs awscli.clidriver.main() as the aws command does, with
its own stdin (/dev/null), stdout and stderr. A command therefore starts from
the state of the imports, never from what an earlier command left behind
(sessions, credential providers and their caches, configuration, loggers).

What the imports computed from the environment is made the command's own:

  - Values built from HOME (the credential cache directory of the CLI's
    assume-role and web identity providers, ~/.aws/cli/cache, is a module
    constant; botocore's JSONFileCache and SSO token cache have more) are
    found after the imports by the driver's HOME, a path used for nothing
    else, and rewritten in the child with the command's HOME.
  - Every other variable the imports read is recorded; a command whose
    environment gives one of them another value is answered {"rerun": why},
    and the tests run it as an aws command instead.

The botocore model loader is the one thing the children share: the driver
keeps one, and loads into it what its children loaded (service models,
endpoint rules), so that the children that follow find it loaded (see
Models).

The driver starts with the environment of the commands it serves but for
HOME and the AWS_ variables (the tests keep one driver per such
environment), so that Python's own start (locale, PYTHON* variables) is the
one an aws command would have.

Each input line is a JSON object {"args": [...], "env": {...}}; the answer is
one line {"code": N, "stdout": "...", "stderr": "..."} or {"rerun": "..."}.
The first line written, before any input is read, is {"ready": true}, or
{"error": "..."} when the driver cannot keep commands apart.
"""

import io, json, os, sys, tempfile, traceback, types


def record_environ_reads():
    """Makes os.environ note the names read through it; returns the set and
    a function that stops the recording."""
    names = set()
    base = type(os.environ)

    class Recording(base):
        def __getitem__(self, key):
            names.add(key)
            return super().__getitem__(key)

        def __iter__(self):
            names.add(None)  # the whole environment
            return super().__iter__()

    os.environ.__class__ = Recording

    def stop():
        os.environ.__class__ = base

    return names, stop


class HomeValues:
    """The places, in the loaded modules, holding a string that contains
    home, and how to put another home in each."""

    def __init__(self, home):
        self.home = home
        self.setters = []  # (description, function(new_home))
        self.unhandled = []
        self.seen = set()

    def has(self, v):
        return isinstance(v, str) and self.home in v

    def scan_value(self, where, v, put):
        if self.has(v):
            self.setters.append((where, lambda h, put=put, v=v: put(v.replace(self.home, h))))
        elif isinstance(v, (tuple, list, set, frozenset, dict)):
            if self.deep_has(v, 4):
                self.unhandled.append(where)

    def deep_has(self, v, depth):
        if self.has(v):
            return True
        if depth == 0:
            return False
        if isinstance(v, dict):
            return any(self.deep_has(k, depth - 1) or self.deep_has(x, depth - 1) for k, x in v.items())
        if isinstance(v, (tuple, list, set, frozenset)):
            return any(self.deep_has(x, depth - 1) for x in v)
        return False

    def scan_function(self, where, f):
        f = getattr(f, "__func__", f)  # staticmethod, classmethod
        f = getattr(f, "__wrapped__", f)
        if not isinstance(f, types.FunctionType) or id(f) in self.seen:
            return
        self.seen.add(id(f))
        defaults = f.__defaults__ or ()
        for i, d in enumerate(defaults):
            if self.has(d):
                def put(new, f=f, i=i):
                    ds = list(f.__defaults__)
                    ds[i] = new
                    f.__defaults__ = tuple(ds)
                self.setters.append((where + " default %d" % i, lambda h, put=put, d=d: put(d.replace(self.home, h))))
            elif self.deep_has(d, 4):
                self.unhandled.append(where + " default %d" % i)
        for k, d in (f.__kwdefaults__ or {}).items():
            if self.has(d):
                self.setters.append((where + " default " + k,
                                     lambda h, f=f, k=k, d=d: f.__kwdefaults__.__setitem__(k, d.replace(self.home, h))))
        for c in f.__closure__ or ():
            try:
                v = c.cell_contents
            except ValueError:
                continue
            if self.has(v) or self.deep_has(v, 4):
                self.unhandled.append(where + " closure")

    def scan_namespace(self, where, ns, setattr_, depth):
        for k, v in list(ns.items()):
            w = "%s.%s" % (where, k)
            if isinstance(v, str) or isinstance(v, (tuple, list, set, frozenset, dict)):
                self.scan_value(w, v, lambda new, k=k: setattr_(k, new))
            elif isinstance(v, type):
                self.scan_class(w, v, depth)
            elif isinstance(v, (types.FunctionType, staticmethod, classmethod)):
                self.scan_function(w, v)
            elif isinstance(v, types.ModuleType):
                pass
            elif depth > 0 and hasattr(v, "__dict__") and isinstance(getattr(v, "__dict__", None), dict):
                if id(v) in self.seen:
                    continue
                self.seen.add(id(v))
                self.scan_namespace(w, vars(v), lambda a, new, v=v: setattr(v, a, new), depth - 1)

    def scan_class(self, where, cls, depth):
        if id(cls) in self.seen:
            return
        self.seen.add(id(cls))
        self.scan_namespace(where, dict(vars(cls)), lambda a, new: setattr(cls, a, new), depth)

    def scan_modules(self):
        for name, m in list(sys.modules.items()):
            if m is None or name == "__main__":
                continue
            self.scan_namespace(name, dict(vars(m)), lambda a, new, m=m: setattr(m, a, new), 2)


def main():
    out = sys.stdout
    start_env = dict(os.environ)
    home = start_env["HOME"]
    names, stop = record_environ_reads()
    try:
        import awscli.clidriver
        # What a command loads on its way to an endpoint (the CLI's plugins
        # among them), so that each child does not load it again.
        import awscli.handlers, awscli.formatter, awscli.table, awscli.text
        import botocore.httpsession, botocore.parsers, botocore.serialize
        import botocore.endpoint_provider, botocore.regions, botocore.auth
    finally:
        stop()
    # Importing awscli adds its data directory to AWS_DATA_PATH, as the aws
    # command's own start does; every command has it.
    data_path = os.environ["AWS_DATA_PATH"]
    import_env = {k: start_env.get(k) for k in names if k is not None and k != "HOME"}

    homes = HomeValues(home)
    homes.scan_modules()
    error = None
    if None in names:
        error = "the aws CLI's modules read the whole environment as they loaded"
    elif homes.unhandled:
        error = "values built from HOME the driver cannot rewrite: " + ", ".join(homes.unhandled)
    if error:
        out.write(json.dumps({"error": error}) + "\n")
        out.flush()
        return
    out.write(json.dumps({"ready": True, "home": [w for w, _ in homes.setters]}) + "\n")
    out.flush()
    models = Models(data_path, home)

    for line in sys.stdin:
        req = json.loads(line)
        env = req["env"]
        differ = sorted(k for k, v in import_env.items() if env.get(k) != v)
        if differ:
            out.write(json.dumps({"rerun": "the aws CLI read %s as it loaded" % ", ".join(differ)}) + "\n")
            out.flush()
            continue
        with tempfile.TemporaryFile() as so, tempfile.TemporaryFile() as se, tempfile.TemporaryFile() as loads:
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                try:
                    child(req["args"], env, data_path, homes, models, so, se, loads)
                finally:
                    os._exit(70)
            _, status = os.waitpid(pid, 0)
            code = os.waitstatus_to_exitcode(status)
            if code < 0:
                code = -1  # killed by a signal, as Go reports it
            so.seek(0)
            se.seek(0)
            res = {"code": code, "stdout": so.read().decode("utf-8", "replace"),
                   "stderr": se.read().decode("utf-8", "replace")}
            out.write(json.dumps(res) + "\n")
            out.flush()
            loads.seek(0)
            models.replay(loads.read())


class Models:
    """A botocore model loader kept by the driver, which its children use
    in place of a new one when theirs would search the same places: what a
    child loaded (service models, endpoint rules, which services exist) the
    driver loads after it, once, for the children that follow.

    A loader only reads the model files under its search paths, which are
    the same for the children it serves (~/.aws/models, the one of them
    under HOME, is searched by a child's own loader when it exists)."""

    METHODS = ("list_available_services", "determine_latest_version", "list_api_versions",
               "load_service_model", "load_data_with_path", "load_data")

    def __init__(self, data_path, home):
        import botocore.loaders
        self.data_path = data_path
        self.home = home
        self.loader = botocore.loaders.create_loader(data_path)
        self.replayed = set()

    def use(self, new_home, loads):
        """In a child: its sessions get the driver's loader, whose calls
        are written to loads."""
        import botocore.loaders, botocore.session
        loader, create = self.loader, botocore.session.create_loader
        paths = [p.replace(self.home, new_home) for p in loader.search_paths]
        own = botocore.loaders.Loader.CUSTOMER_DATA_PATH

        def create_loader(search_path_string=None):
            if search_path_string != self.data_path or os.path.exists(own):
                return create(search_path_string)
            loader._search_paths[:] = paths
            return loader

        botocore.session.create_loader = create_loader
        depth = [0]
        for name in self.METHODS:
            method = getattr(botocore.loaders.Loader, name)

            def recorded(obj, *args, _method=method, _name=name, **kwargs):
                if obj is loader and depth[0] == 0:
                    loads.write((json.dumps([_name, args, kwargs]) + "\n").encode())
                depth[0] += 1
                try:
                    return _method(obj, *args, **kwargs)
                finally:
                    depth[0] -= 1

            setattr(botocore.loaders.Loader, name, recorded)

    def replay(self, lines):
        for line in lines.decode().splitlines():
            if line in self.replayed:
                continue
            self.replayed.add(line)
            name, args, kwargs = json.loads(line)
            if name in self.METHODS:
                try:
                    getattr(self.loader, name)(*args, **kwargs)
                except Exception:
                    pass  # not cached: the children meet it again themselves


def child(args, env, data_path, homes, models, so, se, loads):
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(so.fileno(), 1)
    os.dup2(se.fileno(), 2)
    sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding=sys.stdin.encoding, errors=sys.stdin.errors)
    os.environ.clear()
    os.environ.update(env)
    os.environ["AWS_DATA_PATH"] = data_path
    # What the aws command does before it imports the CLI.
    if os.environ.get("LC_CTYPE", "") == "UTF-8":
        os.environ["LC_CTYPE"] = "en_US.UTF-8"
    new_home = os.path.expanduser("~")
    for _, put in homes.setters:
        put(new_home)
    models.use(new_home, loads)
    sys.argv = ["aws"] + list(args)
    code = 0
    try:
        import awscli.clidriver
        code = awscli.clidriver.main()
    except SystemExit as e:
        code = e.code
    except BaseException:
        traceback.print_exc()
        code = 1
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    try:
        import atexit
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
        loads.flush()
    finally:
        os._exit(code & 0xFF)


main()
