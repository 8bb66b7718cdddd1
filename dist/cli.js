import { createRequire as __qfCreateRequire } from 'node:module'; const require = __qfCreateRequire(import.meta.url);
import{d as f,e as l}from"./chunks/cli-chunk-TBFUV542.js";import{a as y,b as g}from"./chunks/cli-chunk-5ZHVDSV6.js";import{a as c,b as h}from"./chunks/cli-chunk-3GVF3MLK.js";import"./chunks/cli-chunk-KUBSUI45.js";import N from"node:path";import{parseArgs as R}from"node:util";import{spawn as P}from"node:child_process";import{readFile as E}from"node:fs/promises";import o from"node:path";var w=String.raw`
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
`;var _="warm-start.json",i=class r{constructor(e,t){this.options=e;this.launched=t}options;launched;taken=!1;static async start(e){if(e.env.PYTHONPATH)return;let t=await y.open();if(!t)return;let n=["-c",w,o.join(t.dir,_)],s=P(e.python,n,{cwd:e.repoDir,env:e.env,detached:!0,stdio:["pipe",...t.stdio]}),x=new Promise(u=>{s.once("error",a=>u({exitCode:null,signal:null,spawnError:a.message})),s.once("exit",(a,S)=>u({exitCode:a,signal:S}))});return s.stdin?.on("error",()=>{}),await t.closeWriteEnds(),s.unref(),s.stdin?.unref(),new r(e,{child:s,exited:x,fifos:t})}claim(e,t){let{child:n}=this.launched;if(!(this.taken||n.pid===void 0||n.exitCode!==null||n.signalCode!==null||!(e.command===this.options.python&&e.args[0]==="-m"&&e.args[1]==="pytest"&&o.resolve(t)===o.resolve(this.options.repoDir)&&T(e.env,this.options.env))))return this.taken=!0,n.ref(),n.stdin?.end(JSON.stringify({command:e.command,args:e.args,env:e.env})),{...this.launched,warmStart:()=>this.readStatus()}}async discard(){if(this.taken)return;this.taken=!0;let{child:e,fifos:t}=this.launched;e.ref(),g(e.pid,"SIGKILL"),await this.launched.exited,await t.close()}async readStatus(){try{return JSON.parse(await E(o.join(this.launched.fifos.dir,_),"utf8"))}catch{return{used:!1,reason:"the warm-started Python ended before it started the command"}}}};function T(r,e){let t=Object.keys(r);return t.length===Object.keys(e).length&&t.every(n=>e[n]===r[n])}function v(r,e,t){let n=R({args:[...r],options:{repo:{type:"string"}},strict:!1,allowPositionals:!0}).values.repo;if(typeof n!="string")return;let s=h(e,c,{...l});return i.start({python:f,repoDir:N.resolve(t,n),env:s}).catch(()=>{})}var p=new AbortController;for(let r of["SIGINT","SIGTERM"])process.on(r,()=>{p.signal.aborted&&process.exit(130),p.abort(r)});var m=process.argv.slice(2),d=m[0]==="run"?await v(m.slice(1),process.env,process.cwd()):void 0,{main:b}=await import("./chunks/cli-main-EXWB5SB3.js");try{process.exitCode=await b(m,{stdout:r=>process.stdout.write(r),stderr:r=>process.stderr.write(r),env:process.env,cwd:process.cwd(),signal:p.signal,...d?{warmPytest:d}:{}})}finally{await d?.discard()}
