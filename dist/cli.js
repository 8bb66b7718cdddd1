import { createRequire as __qfCreateRequire } from 'node:module'; const require = __qfCreateRequire(import.meta.url);
import{d as c,e as l}from"./chunks/cli-chunk-TBFUV542.js";import{a as g,b as w}from"./chunks/cli-chunk-5ZHVDSV6.js";import{a as h,b as y}from"./chunks/cli-chunk-3GVF3MLK.js";import"./chunks/cli-chunk-KUBSUI45.js";import b from"node:path";import{spawn as T}from"node:child_process";import{mkdtemp as N,readFile as k,rm as v}from"node:fs/promises";import R from"node:os";import i from"node:path";var _=String.raw`
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
`;var x="warm-start.json",d=class r{constructor(e,n,t){this.options=e;this.launched=n;this.dir=t}options;launched;dir;taken=!1;static async start(e){if(e.env.PYTHONPATH)return;let n=await N(i.join(R.tmpdir(),"qf-warm-")),t=["-c",_,i.join(n,x)],o=await g.open(),s=T(e.python,t,{cwd:e.repoDir,env:e.env,detached:!0,stdio:["pipe",o?.stdio[0]??"pipe",o?.stdio[1]??"pipe"]}),E=new Promise(a=>{s.once("error",p=>a({exitCode:null,signal:null,spawnError:p.message})),s.once("exit",(p,P)=>a({exitCode:p,signal:P}))});s.stdin?.on("error",()=>{}),await o?.closeWriteEnds(),s.unref();for(let a of[s.stdin,s.stdout,s.stderr])a?.unref();return new r(e,{child:s,exited:E,fifos:o},n)}claim(e,n){let{child:t}=this.launched;if(!(this.taken||t.pid===void 0||t.exitCode!==null||t.signalCode!==null||!(e.command===this.options.python&&e.args[0]==="-m"&&e.args[1]==="pytest"&&i.resolve(n)===i.resolve(this.options.repoDir)&&W(e.env,this.options.env))))return this.taken=!0,t.ref(),t.stdin?.end(JSON.stringify({command:e.command,args:e.args,env:e.env})),{...this.launched,warmStart:()=>this.readStatus()}}async discard(){if(this.taken)return;this.taken=!0;let{child:e,fifos:n}=this.launched;e.ref(),w(e.pid,"SIGKILL"),await this.launched.exited,await n?.close(),await v(this.dir,{recursive:!0,force:!0})}async readStatus(){try{return JSON.parse(await k(i.join(this.dir,x),"utf8"))}catch{return{used:!1,reason:"the warm-started Python ended before it started the command"}}finally{await v(this.dir,{recursive:!0,force:!0})}}};function W(r,e){let n=Object.keys(r);return n.length===Object.keys(e).length&&n.every(t=>e[t]===r[t])}function S(r,e,n){let t=L(r,"--repo");if(t===void 0)return;let o=y(e,h,{...l});return d.start({python:c,repoDir:b.resolve(n,t),env:o}).catch(()=>{})}function L(r,e){for(let[n,t]of r.entries()){if(t===e)return r[n+1];if(t.startsWith(`${e}=`))return t.slice(e.length+1)}}var m=new AbortController;for(let r of["SIGINT","SIGTERM"])process.on(r,()=>{m.signal.aborted&&process.exit(130),m.abort(r)});var f=process.argv.slice(2),u=f[0]==="run"?await S(f.slice(1),process.env,process.cwd()):void 0,{main:O}=await import("./chunks/cli-main-EXWB5SB3.js");try{process.exitCode=await O(f,{stdout:r=>process.stdout.write(r),stderr:r=>process.stderr.write(r),env:process.env,cwd:process.cwd(),signal:m.signal,...u?{warmPytest:u}:{}})}finally{await u?.discard()}
