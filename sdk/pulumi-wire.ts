// Pulumi's wire format for a secret value, as the engine and the SDK exchange properties
// (`{ [SIG_KEY]: SECRET_SIG, value }`): what a resource transform receives, and what an
// offline plan's recorded inputs hold.

/** The key that marks a special value on the wire. */
export const SIG_KEY = "4dabf18193072939515e22adb298388d";

/** The marker of a secret value. */
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** Whether a deserialized property is a secret in wire form. */
export function isWireSecret(value: unknown): value is { value: unknown } {
    return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

/** The marker of a value not known yet (during a preview). */
export const UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** What an Output holds, read the way the SDK serializes it. */
interface OutputState {
    readonly isKnown: Promise<boolean>;
    readonly isSecret: Promise<boolean>;
    promise(): Promise<unknown>;
}

/**
 * A resource transform's properties in wire form, to hand back to the engine: every Output
 * (how the engine's properties arrive) replaced by its value, a secret as a wire-form
 * secret, an unknown as the unknown marker. The SDK would serialize the Outputs itself, but
 * in the callback that runs a transform it may not know that the engine takes secrets (under
 * the Automation API it does not), and would hand every secret back as plain text.
 */
export async function toWire(value: unknown): Promise<unknown> {
    if (isOutputLike(value)) {
        const [known, secret] = await Promise.all([value.isKnown, value.isSecret]);
        if (!known) {
            return UNKNOWN_VALUE;
        }
        const inner = await toWire(await value.promise());
        return secret ? { [SIG_KEY]: SECRET_SIG, value: inner } : inner;
    }
    if (isWireSecret(value)) {
        return { [SIG_KEY]: SECRET_SIG, value: await toWire(value.value) };
    }
    if (Array.isArray(value)) {
        return Promise.all(value.map(toWire));
    }
    if (typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
        const entries = await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await toWire(v)] as const));
        return Object.fromEntries(entries);
    }
    return value;
}

function isOutputLike(value: unknown): value is OutputState {
    return (
        typeof value === "object" &&
        value !== null &&
        (value as { __pulumiOutput?: unknown }).__pulumiOutput === true &&
        typeof (value as { promise?: unknown }).promise === "function"
    );
}
