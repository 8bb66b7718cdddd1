import { createRequire as __qfCreateRequire } from 'node:module'; const require = __qfCreateRequire(import.meta.url);
function n(r,t){return r!=="strict"?[]:t.map(e=>`The SecureGateway vetoed ${String(e.taskId)}: ${String(e.message)}`)}export{n as a};
