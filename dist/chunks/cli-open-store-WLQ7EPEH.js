import { createRequire as __qfCreateRequire } from 'node:module'; const require = __qfCreateRequire(import.meta.url);
import{g as a,h as b}from"./cli-chunk-E6GQGCA5.js";import"./cli-chunk-WGWSW77X.js";export{a as DEFAULT_DB_PATH,b as openStore};
