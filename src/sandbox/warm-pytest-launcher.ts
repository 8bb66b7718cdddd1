/**
 * The Python side of WarmPytest (warm-pytest.ts), run as `python -c LAUNCHER STATUS_FILE` in the
 * repository with the step's environment, as pytest itself would be.
 *
 * 1. Drops the working folder from sys.path (`-c` puts it first, after site's start-up, so nothing
 *    from it has been imported yet), then imports pytest and its built-in plugins — unless another
 *    sys.path entry lies inside the repository (an editable install, say): nothing from the
 *    repository may run before qf has decided to run it.
 * 2. Waits on stdin for {command, args, env}. Empty stdin means "not needed": it exits 0.
 * 3. Runs pytest in this process as `python -m pytest` would (the folder first on sys.path, argv[0]
 *    pytest's __main__), or, when it could differ from a fresh process (a module of the folder
 *    named like one already imported), replaces itself with the plain command. STATUS_FILE says
 *    which and why.
 */
export const WARM_PYTEST_LAUNCHER = String.raw`
import json, os, sys

if sys.path and sys.path[0] == '':
    del sys.path[0]
status_file, repo = sys.argv[1], os.path.realpath(os.curdir)

def inside_repo(entry):
    real = os.path.realpath(entry)
    return real == repo or real.startswith(repo + os.sep)

def preload():
    import site
    environment = {os.path.realpath(entry) for entry in [*site.getsitepackages(), site.getusersitepackages()]}
    for entry in sys.path:
        if inside_repo(entry) and os.path.realpath(entry) not in environment:
            return 'sys.path has ' + entry + ', inside the repository, so nothing was imported ahead'
    import pytest, _pytest.config
    for name in _pytest.config.default_plugins:
        __import__('_pytest.' + name)
    return None

def shadowing_module():
    import importlib.machinery
    loaded = {name.partition('.')[0] for name in sys.modules}
    suffixes = importlib.machinery.all_suffixes()
    for entry in os.listdir(os.curdir):
        name = next((entry[:-len(suffix)] for suffix in suffixes if entry.endswith(suffix)), None)
        if name is None and os.path.isfile(os.path.join(entry, '__init__.py')):
            name = entry
        if name in loaded:
            return entry
    return None

def attempt(step, what):
    # Never fail here: whatever goes wrong, the plain command still runs and reports for itself.
    try:
        return step()
    except Exception as error:
        return what + ' failed (' + type(error).__name__ + ')'

not_preloaded = attempt(preload, 'importing pytest ahead')
request = json.loads(sys.stdin.buffer.read() or b'null')
if request is None:
    sys.exit(0)
devnull = os.open(os.devnull, os.O_RDONLY)
os.dup2(devnull, 0)
os.close(devnull)

def shadowing():
    shadow = shadowing_module()
    return shadow and 'the working folder has ' + shadow + ', which python -m pytest would import instead'

reason = not_preloaded or attempt(shadowing, 'checking the working folder')
with open(status_file, 'w') as status:
    json.dump({'used': True} if reason is None else {'used': False, 'reason': reason}, status)
if reason is not None:
    os.execvpe(request['command'], [request['command'], *request['args']], request['env'])

sys.path.insert(0, os.getcwd())
sys.argv = [sys.argv[0], *request['args'][2:]]
import runpy
runpy.run_module('pytest', run_name='__main__', alter_sys=True)
`;
