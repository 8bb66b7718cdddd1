import { createRequire as __qfCreateRequire } from 'node:module'; const require = __qfCreateRequire(import.meta.url);
import{a as b}from"./cli-chunk-6ZLKGB24.js";import{a}from"./cli-chunk-Y7X5ATOF.js";import"./cli-chunk-CZMG3B6R.js";import"./cli-chunk-P22ZO4IJ.js";import"./cli-chunk-2IVK7DEB.js";import"./cli-chunk-KUBSUI45.js";export{a as DEFAULT_DB_PATH,b as openStore};
