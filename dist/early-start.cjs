"use strict";var W=Object.create;var p=Object.defineProperty;var Y=Object.getOwnPropertyDescriptor;var F=Object.getOwnPropertyNames;var j=Object.getPrototypeOf,H=Object.prototype.hasOwnProperty;var U=(s,e)=>{for(var t in e)p(s,t,{get:e[t],enumerable:!0})},g=(s,e,t,r)=>{if(e&&typeof e=="object"||typeof e=="function")for(let n of F(e))!H.call(s,n)&&n!==t&&p(s,n,{get:()=>e[n],enumerable:!(r=Y(e,n))||r.enumerable});return s};var c=(s,e,t)=>(t=s!=null?W(j(s)):{},g(e||!s||!s.__esModule?p(t,"default",{value:s,enumerable:!0}):t,s)),V=s=>g(p({},"__esModule",{value:!0}),s);var ee={};U(ee,{warmPytest:()=>z});module.exports=V(ee);var C=c(require("node:path"),1),I=require("node:util");var E="python3",_={PYTHONDONTWRITEBYTECODE:"1"};var B=/(TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL|PRIVATE|API_?KEY|ACCESS_?KEY|(^|_)KEY($|_)|AUTH)/i,w=["PATH","HOME","LANG","LC_ALL","TZ","PYTHONPATH","VIRTUAL_ENV"],q=["ACTIONS_","GITHUB_","RUNNER_","INPUT_"];function v(s){let e=s.toUpperCase();return B.test(e)||q.some(t=>e.startsWith(t))}function M(s,e){return s.some(t=>t.endsWith("*")?e.startsWith(t.slice(0,-1)):t===e)}function x(s,e,t={}){let r={};for(let[n,a]of Object.entries(s))a===void 0||v(n)||M(e,n)&&(r[n]=a);for(let[n,a]of Object.entries(t))v(n)||(r[n]=a);return r}var L=require("node:child_process"),k=require("node:fs/promises"),u=c(require("node:path"),1);var A=require("node:child_process"),o=require("node:fs"),T=require("node:fs/promises"),N=c(require("node:os"),1),f=c(require("node:path"),1),R=require("node:util"),G=(0,R.promisify)(o.read),K=25,J=16*1024,X=2e3,S=64*1024,m=class s{constructor(e,t,r){this.dir=e;this.readers=t;this.writeEnds=r}dir;readers;writeEnds;exitedAt;wake;static open(){if(process.platform==="win32")return;let e=(0,o.mkdtempSync)(f.default.join(N.default.tmpdir(),"qf-output-")),t=[],r=(n,a)=>{let i=(0,o.openSync)(n,a);return t.push(i),i};try{let n=f.default.join(e,"stdout"),a=f.default.join(e,"stderr");(0,A.execFileSync)("mkfifo",["-m","600",n,a],{stdio:"ignore"});let i=o.constants.O_RDONLY|o.constants.O_NONBLOCK,d={stdout:new l(r(n,i)),stderr:new l(r(a,i))},y=[r(n,o.constants.O_WRONLY),r(a,o.constants.O_WRONLY)];return new s(e,d,y)}catch{for(let n of t)(0,o.closeSync)(n);(0,o.rmSync)(e,{recursive:!0,force:!0});return}}get stdio(){return[this.writeEnds[0],this.writeEnds[1]]}closeWriteEnds(){for(let e of this.writeEnds)(0,o.closeSync)(e);this.writeEnds=[]}commandExited(){this.exitedAt=performance.now(),this.wake?.()}async pump(e){let{stdout:t,stderr:r}=this.readers;for(;!(t.ended&&r.ended);){let n=await t.readAvailable(i=>e("stdout",i))+await r.readAvailable(i=>e("stderr",i));if(t.ended&&r.ended||this.exitedAt!==void 0&&performance.now()-this.exitedAt>X)break;if(n>=J)continue;let a=this.exitedAt===void 0?K:1;await new Promise(i=>{let d=setTimeout(i,a);this.wake=()=>{clearTimeout(d),i()}}),this.wake=void 0}}async close(){this.closeWriteEnds();for(let e of Object.values(this.readers))e.close();await(0,T.rm)(this.dir,{recursive:!0,force:!0})}},l=class{constructor(e){this.fd=e}fd;ended=!1;closed=!1;buffer=Buffer.allocUnsafe(S);async readAvailable(e){let t=0;for(;!this.ended;){let r;try{({bytesRead:r}=await G(this.fd,this.buffer,0,S,null))}catch(n){if(n.code==="EAGAIN")return t;throw n}r===0?this.ended=!0:(e(Buffer.from(this.buffer.subarray(0,r))),t+=r)}return t}close(){this.closed||(this.closed=!0,(0,o.closeSync)(this.fd))}};function O(s,e){if(s!==void 0)try{process.kill(-s,e)}catch{}}var P=String.raw`
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
`;var b="warm-start.json",h=class s{constructor(e,t){this.options=e;this.launched=t}options;launched;taken=!1;static start(e){if(e.env.PYTHONPATH)return;let t=m.open();if(!t)return;let r=["-c",P,u.default.join(t.dir,b)],n=(0,L.spawn)(e.python,r,{cwd:e.repoDir,env:e.env,detached:!0,stdio:["pipe",...t.stdio]}),a=new Promise(i=>{n.once("error",d=>i({exitCode:null,signal:null,spawnError:d.message})),n.once("exit",(d,y)=>i({exitCode:d,signal:y}))});return n.stdin?.on("error",()=>{}),t.closeWriteEnds(),n.unref(),n.stdin?.unref(),new s(e,{child:n,exited:a,fifos:t})}claim(e,t){let{child:r}=this.launched;if(!(this.taken||r.pid===void 0||r.exitCode!==null||r.signalCode!==null||!(e.command===this.options.python&&e.args[0]==="-m"&&e.args[1]==="pytest"&&u.default.resolve(t)===u.default.resolve(this.options.repoDir)&&Q(e.env,this.options.env))))return this.taken=!0,r.ref(),r.stdin?.end(JSON.stringify({command:e.command,args:e.args,env:e.env})),{...this.launched,warmStart:()=>this.readStatus()}}async discard(){if(this.taken)return;this.taken=!0;let{child:e,fifos:t}=this.launched;e.ref(),O(e.pid,"SIGKILL"),await this.launched.exited,await t.close()}async readStatus(){try{return JSON.parse(await(0,k.readFile)(u.default.join(this.launched.fifos.dir,b),"utf8"))}catch{return{used:!1,reason:"the warm-started Python ended before it started the command"}}}};function Q(s,e){let t=Object.keys(s);return t.length===Object.keys(e).length&&t.every(r=>e[r]===s[r])}function D(s,e,t){let r=(0,I.parseArgs)({args:[...s],options:{repo:{type:"string"}},strict:!1,allowPositionals:!0}).values.repo;if(typeof r!="string")return;let n=x(e,w,{..._});try{return h.start({python:E,repoDir:C.default.resolve(t,r),env:n})}catch{return}}var[Z,...$]=process.argv.slice(2),z=Z==="run"?D($,process.env,process.cwd()):void 0;0&&(module.exports={warmPytest});
