// The types of typescript.js: the package's own.
import ts from 'typescript';
export default ts;
