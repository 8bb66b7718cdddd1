import { createRequire as __qfCreateRequire } from 'node:module'; const require = __qfCreateRequire(import.meta.url);
import{b as n}from"./cli-chunk-Y3HDLYC5.js";var r={db:{type:"string"},"database-url":{type:"string"}};function a(t,e={}){return n({...t.db!==void 0?{db:t.db}:{},...t["database-url"]!==void 0?{databaseUrl:t["database-url"]}:{}},e)}export{r as a,a as b};
