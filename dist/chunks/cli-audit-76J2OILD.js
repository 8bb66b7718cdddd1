import { createRequire as __qfCreateRequire } from 'node:module'; const require = __qfCreateRequire(import.meta.url);
import"./cli-chunk-X25CRNQL.js";import{a as s,e as p}from"./cli-chunk-CR2WP2SK.js";import{a as l}from"./cli-chunk-QM2WJDEN.js";import"./cli-chunk-UJUTPAP7.js";import{h as d}from"./cli-chunk-E6GQGCA5.js";import{e as c,g as u}from"./cli-chunk-WGWSW77X.js";import{parseArgs as y}from"node:util";var g=`usage: qf audit verify [--chain NAME] [--json] [--db PATH | --database-url URL]
       qf audit list [--repo OWNER/NAME] [--chain NAME] [--actor A] [--action A] [--subject S] [--since DATE] [--until DATE] [--db PATH | --database-url URL]`;async function E(f,r){try{let{values:t,positionals:a}=y({args:f,allowPositionals:!0,options:{db:{type:"string"},"database-url":{type:"string"},chain:{type:"string"},json:{type:"boolean",default:!1},repo:{type:"string"},actor:{type:"string"},action:{type:"string"},subject:{type:"string"},since:{type:"string"},until:{type:"string"}}}),i=a[0];if(a.length!==1||i!=="verify"&&i!=="list")throw new c("BAD_INPUT",`expected 'verify' or 'list'
${g}`);let e=await d(p({db:t.db,databaseUrl:t["database-url"]},{mustExist:!0}));try{if(i==="list"){let n=await e.listAudit({chain:t.chain,projectId:t.repo,actor:t.actor,action:t.action,subject:t.subject,since:t.since,until:t.until});for(let b of n)r.stdout(`${JSON.stringify(b)}
`);return s.pass}let o=await l(e,t.chain);if(t.json)r.stdout(`${JSON.stringify(o,null,2)}
`);else for(let n of o.chains)r.stdout(n.ok?`ok      ${n.chain} (${n.count} events)
`:`BROKEN  ${n.chain} at seq ${n.brokenSeq}: ${n.reason}
`);if(!o.ok){let n=o.firstBroken;return r.stderr(`qf: audit chain '${n?.chain}' in ${e.location} is broken at seq ${n?.seq}: ${n?.reason}
`),s.badInput}return s.pass}finally{await e.close()}}catch(t){return r.stderr(`qf audit: ${u(t)}
`),s.badInput}}export{E as auditCommand};
