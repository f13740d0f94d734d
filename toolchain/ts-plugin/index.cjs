// tsserver loads plugins with require(): register tsx and load the plugin's TypeScript source,
// which imports the guest compiler's subset checker (one checker for the compiler and the editor).
'use strict';
const tsx = require('tsx/cjs/api');
const { init } = tsx.require('./plugin.ts', __filename);
module.exports = init;
