export { BinaryOp, Node, Value, identifiers } from './ast';
export { parse, ParseOptions } from './parser';
export { evaluate, truthy, Scope, SCALAR_FUNCTIONS, SCALAR_FUNCTION_NAMES } from './eval';
