import { createRequire as __qfCreateRequire } from 'node:module'; const require = __qfCreateRequire(import.meta.url);
import{a as b}from"./cli-chunk-JXKDVMZR.js";import{a}from"./cli-chunk-6GZ7EC6F.js";import"./cli-chunk-CZMG3B6R.js";import"./cli-chunk-P22ZO4IJ.js";import"./cli-chunk-KN57RDPO.js";import"./cli-chunk-KUBSUI45.js";export{a as DEFAULT_DB_PATH,b as openStore};
