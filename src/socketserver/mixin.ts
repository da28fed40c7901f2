// What ThreadingMixIn and ForkingMixIn share: the server classes they take,
// the class they return, and how `server instanceof Mixin` is told.
import { BaseServer, describeValue } from './servers';

/** A server class: BaseServer or a subclass, whatever its constructor takes. */
export type ServerClass = new (...args: never[]) => BaseServer;

/**
 * The class a mix-in returns: Base's statics and constructor, and instances
 * that are Base's with the mix-in's members (M) added; the mix-in's statics
 * (MS) beside Base's.
 */
export type MixedServerClass<B extends ServerClass, M, MS> = Omit<B, 'prototype'> &
  MS & {
    new (...args: ConstructorParameters<B>): InstanceType<B> & M;
    /** The instances' prototype. */
    prototype: InstanceType<B> & M;
  };

/**
 * Checks a mix-in's argument: a server class (BaseServer or a subclass).
 * @internal
 */
export function checkServerClass(mixin: string, Base: unknown): void {
  if (typeof Base !== 'function' || !(Base === BaseServer || Base.prototype instanceof BaseServer)) {
    throw new TypeError(`${mixin}(): Base must be a server class (BaseServer or a subclass), not ${describeValue(Base)}`);
  }
}

/**
 * The class a mix-in made from Base, typed as what it is: TypeScript types
 * `class extends Base` by Base's constraint (a BaseServer), not by Base's
 * own instances and constructor, which the class keeps.
 * @internal
 */
export function mixedClass<B extends ServerClass, M, MS>(mixed: ServerClass): MixedServerClass<B, M, MS>;
export function mixedClass(mixed: ServerClass): unknown {
  return mixed;
}

/** Marks a class a mix-in made, for the mix-in's `instanceof` (tellsMixed()). @internal */
export function markMixed(mixed: ServerClass, brand: symbol): void {
  Object.defineProperty(mixed.prototype, brand, { value: true });
}

/** Makes `value instanceof mixin` tell whether value is an instance of a class marked with brand. @internal */
export function tellsMixed(mixin: object, brand: symbol): void {
  Object.defineProperty(mixin, Symbol.hasInstance, {
    value: (value: unknown): boolean => typeof value === 'object' && value !== null && Reflect.get(value, brand) === true,
  });
}
