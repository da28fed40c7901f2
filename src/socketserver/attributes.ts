// Python's class attributes (allow_reuse_address, timeout, rbufsize, ...)
// as statics. Each base class declares an accessor per attribute: the
// getter reads the instance's own value, set by assignment as in Python,
// else the class's static (nearest subclass first, through the
// constructor's prototype chain). Declaring them as accessors makes a
// subclass *field* of the same name a TypeScript error (TS2610): a field
// is set only once the base constructor has returned, too late for what
// the constructor used (the socket's family, the reuse options, listen()'s
// backlog). Plain JavaScript has no such check, so the server remembers
// what its constructor read from the class and refuses to serve when a
// field has shadowed one of those since (lateFieldError()).
import { describe } from '../errors';

/** The values assigned on instances, which win over the class's. */
const instanceValues = new WeakMap<object, Map<string, unknown>>();
/** Per server: the attributes its constructor read from the class (not from an own field). */
const readFromClass = new WeakMap<object, Set<string>>();

/** Whether target is a class's prototype (`Server.prototype`), not an instance. */
function isPrototype(target: object): boolean {
  return (
    Object.prototype.hasOwnProperty.call(target, 'constructor') &&
    (target.constructor as { prototype?: unknown } | undefined)?.prototype === target
  );
}

/** The value of a class attribute for instance: its own (assigned) one, else its class's static. */
export function classAttribute<T>(instance: object, name: string): T {
  const own = instanceValues.get(instance);
  if (own !== undefined && own.has(name)) return own.get(name) as T;
  return staticAttribute(instance, name) as T;
}

/** The static name of instance's class (nearest subclass first), whatever the instance has of its own. */
export function staticAttribute(instance: object, name: string): unknown {
  return Reflect.get(instance.constructor, name);
}

/**
 * Gives instance its own value. On a prototype (`Server.prototype.timeout
 * = 5`, how these were set before they were statics) it sets the class's
 * static instead, so that every instance reads it.
 */
export function setClassAttribute(instance: object, name: string, value: unknown): void {
  if (isPrototype(instance)) {
    Reflect.set(instance.constructor, name, value);
    return;
  }
  let own = instanceValues.get(instance);
  if (own === undefined) {
    own = new Map();
    instanceValues.set(instance, own);
  }
  own.set(name, value);
}

/**
 * Reads a class attribute for a step of construction (bind, listen), and
 * remembers that it was used when it came from the class: a field of the
 * same name that appears later came too late (lateFieldError()).
 */
export function useClassAttribute<T>(instance: object, name: string): T {
  if (!Object.prototype.hasOwnProperty.call(instance, name)) {
    let used = readFromClass.get(instance);
    if (used === undefined) {
      used = new Set();
      readFromClass.set(instance, used);
    }
    used.add(name);
  }
  return (instance as Record<string, T>)[name]!;
}

/**
 * A TypeError for method when an own field (a subclass's `name = value`
 * in plain JavaScript) now shadows an attribute the constructor had
 * already read from the class; null when there is none. Once none is
 * found the server stops checking.
 */
export function lateFieldError(instance: object, method: string): TypeError | null {
  const used = readFromClass.get(instance);
  if (used === undefined) return null;
  for (const name of used) {
    const field = Object.getOwnPropertyDescriptor(instance, name);
    if (field === undefined || !('value' in field)) continue;
    const cls = (instance.constructor as { name?: unknown } | undefined)?.name;
    const className = typeof cls === 'string' && cls !== '' ? cls : 'the server class';
    const classValue = staticAttribute(instance, name);
    return new TypeError(
      `${className}.${method}(): ${name} is an instance field (${describe(field.value)}), which is set only ` +
        `after the constructor has used ${className}.${name} (${describe(classValue)}); ` +
        `declare it as a class attribute: static ${name} = ${describe(field.value)}`,
    );
  }
  readFromClass.delete(instance);
  return null;
}
