import { createRequire as __qfCreateRequire } from 'node:module'; const require = __qfCreateRequire(import.meta.url);
import"./cli-chunk-X25CRNQL.js";import{a as o,e as p,f as d}from"./cli-chunk-I3U5KSRK.js";import{a as f}from"./cli-chunk-YR4YFLFX.js";import"./cli-chunk-UJUTPAP7.js";import{a as l}from"./cli-chunk-J7RKZDHV.js";import"./cli-chunk-2TMSTAKO.js";import{e as c,g as u}from"./cli-chunk-WGWSW77X.js";import{parseArgs as b}from"node:util";var g=`usage: qf audit verify [--chain NAME] [--json] [--db PATH | --database-url URL]
       qf audit list [--repo OWNER/NAME] [--chain NAME] [--actor A] [--action A] [--subject S] [--since DATE] [--until DATE] [--db PATH | --database-url URL]`;async function k(m,r){try{let{values:t,positionals:a}=b({args:m,allowPositionals:!0,options:{...p,chain:{type:"string"},json:{type:"boolean",default:!1},repo:{type:"string"},actor:{type:"string"},action:{type:"string"},subject:{type:"string"},since:{type:"string"},until:{type:"string"}}}),i=a[0];if(a.length!==1||i!=="verify"&&i!=="list")throw new c("BAD_INPUT",`expected 'verify' or 'list'
${g}`);let s=await l(d(t,{mustExist:!0}));try{if(i==="list"){let n=await s.listAudit({chain:t.chain,projectId:t.repo,actor:t.actor,action:t.action,subject:t.subject,since:t.since,until:t.until});for(let y of n)r.stdout(`${JSON.stringify(y)}
`);return o.pass}let e=await f(s,t.chain);if(t.json)r.stdout(`${JSON.stringify(e,null,2)}
`);else for(let n of e.chains)r.stdout(n.ok?`ok      ${n.chain} (${n.count} events)
`:`BROKEN  ${n.chain} at seq ${n.brokenSeq}: ${n.reason}
`);if(!e.ok){let n=e.firstBroken;return r.stderr(`qf: audit chain '${n?.chain}' in ${s.location} is broken at seq ${n?.seq}: ${n?.reason}
`),o.badInput}return o.pass}finally{await s.close()}}catch(t){return r.stderr(`qf audit: ${u(t)}
`),o.badInput}}export{k as auditCommand};
