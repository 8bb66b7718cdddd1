import { createRequire as __qfCreateRequire } from 'node:module'; const require = __qfCreateRequire(import.meta.url);
import{a as b}from"./cli-chunk-J7RKZDHV.js";import{h as a}from"./cli-chunk-2TMSTAKO.js";import"./cli-chunk-WGWSW77X.js";export{a as DEFAULT_DB_PATH,b as openStore};
