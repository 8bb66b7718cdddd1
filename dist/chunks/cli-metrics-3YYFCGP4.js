import { createRequire as __qfCreateRequire } from 'node:module'; const require = __qfCreateRequire(import.meta.url);
import{h as r}from"./cli-chunk-6Q2APZOO.js";import"./cli-chunk-QWRLHZAY.js";import"./cli-chunk-KOU4W7NH.js";import"./cli-chunk-NLPMTSIK.js";async function m(i,o){return o.stdout(r()),0}export{m as metricsCommand};
