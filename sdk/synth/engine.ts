import * as pulumi from "@pulumi/pulumi";
import { WORKING_DIRECTORY_COMMAND } from "../command-directory";
import { isWireSecret } from "../pulumi-wire";

/** The marker that stands in for a secret value wherever one would be written out. */
export const SECRET_MARKER = "[secret]";

/** A resource as the engine stand-in saw its registration. */
export interface RegisteredResource {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    readonly custom: boolean;
    /** The parent's URN; undefined for the stack. */
    readonly parent?: string;
    /** URNs this resource depends on (explicit `dependsOn` and input dependencies). */
    readonly dependencies: readonly string[];
    /** The provider reference (`<provider urn>::<id>`) the resource was registered with, if any. */
    readonly provider?: string;
    /** Registered with `protect`: Pulumi refuses to delete it. */
    readonly protect: boolean;
    /** Registered with `retainOnDelete`: deleting it leaves it in the cluster. */
    readonly retainOnDelete: boolean;
    /** Outputs the engine must keep encrypted in the state. */
    readonly additionalSecretOutputs: readonly string[];
    /** The aliases it was registered with, as alias specs (name, parent URN, ...) or URNs. */
    readonly aliases: readonly unknown[];
    /** The property paths whose changes the engine ignores. */
    readonly ignoreChanges: readonly string[];
    /** How many resource transforms the engine calls back before it diffs the resource. */
    readonly transforms: number;
    /** Inputs with secrets revealed: for in-process assertions only. */
    readonly inputs: Record<string, unknown>;
    /** Inputs with every secret replaced by {@link SECRET_MARKER}: safe to write out. */
    readonly redactedInputs: Record<string, unknown>;
}

/** An offline stand-in for the Pulumi engine, built on `pulumi.runtime.setMocks`. */
export interface Engine {
    readonly resources: RegisteredResource[];
    /** Messages the program logged with `pulumi.log.warn`, in order. */
    readonly warnings: string[];
    /** Messages the program logged with `pulumi.log.error`: each fails a `pulumi up`. */
    readonly errors: string[];
    /** The outputs components registered (`registerOutputs`), secrets revealed, by URN. */
    readonly outputs: Map<string, Record<string, unknown>>;
    /**
     * Waits until every registration the program started has been seen, and a rejection
     * of any of them has been reported to the process's `unhandledRejection` listeners.
     */
    settle(): Promise<void>;
    find(type: string, name: string): RegisteredResource | undefined;
}

export interface EngineOptions {
    readonly project?: string;
    readonly stack?: string;
    /** Stack config, keys as `project:key`, values as Pulumi passes them (strings, JSON for objects). */
    readonly config?: Record<string, string>;
    /** Config keys that are secret. */
    readonly secretKeys?: readonly string[];
    /** Run as a preview (unknown outputs stay unknown). @default false */
    readonly preview?: boolean;
    /**
     * Where the command provider runs: under `pulumi up`, the project's directory.
     * @default the current directory when the invoke is answered
     */
    readonly providerDirectory?: string;
    /** Answers the command provider's `local.run` invokes other than the working directory's (tests). */
    readonly run?: (inputs: Record<string, unknown>) => { stdout?: string; stderr?: string } | undefined;
}

/**
 * Installs the mocks and wraps the mock monitor's `registerResource` so each resource's
 * parent, dependencies and raw inputs are recorded. Call before the program is imported.
 */
export async function startEngine(options: EngineOptions = {}): Promise<Engine> {
    const resources: RegisteredResource[] = [];
    const warnings: string[] = [];
    const errors: string[] = [];
    const outputs = new Map<string, Record<string, unknown>>();
    // Without an engine, the SDK prints warnings to the console; collect them instead,
    // so synth can report them with the plan and tests can assert on them.
    (pulumi.log as { warn: typeof pulumi.log.warn }).warn = async (message: string) => {
        // One warning once: a check that runs twice (an Infrastructure checks its
        // provision-configs files before its ProvisionConfigs reads them) says it once.
        if (!warnings.includes(message)) {
            warnings.push(message);
        }
    };
    (pulumi.log as { error: typeof pulumi.log.error }).error = async (message: string) => {
        errors.push(message);
    };
    if (options.config !== undefined) {
        pulumi.runtime.setAllConfig(options.config, [...(options.secretKeys ?? [])]);
    }
    await pulumi.runtime.setMocks(
        {
            newResource: args => ({ id: `${args.name}-id`, state: args.inputs }),
            // Where the command provider runs: under `pulumi up`, the project's directory,
            // which synth runs in. Any other command (a live diff, which synth never asks
            // for) is answered by the test's `run`, or with its inputs: nothing ran.
            call: args => {
                if (args.token !== "command:local:run") {
                    return args.inputs;
                }
                if (args.inputs.command === WORKING_DIRECTORY_COMMAND) {
                    return { ...args.inputs, stdout: `${options.providerDirectory ?? process.cwd()}\n` };
                }
                return { ...args.inputs, ...(options.run?.(args.inputs) ?? {}) };
            },
        },
        options.project ?? "project",
        options.stack ?? "stack",
        options.preview ?? false,
    );

    const monitor = (pulumi.runtime as unknown as { getMonitor(): MockMonitorLike }).getMonitor();
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, callback) =>
        register(req, (err, resp) => {
            if (!err && resp !== undefined) {
                const raw = (req.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>;
                resources.push({
                    urn: resp.getUrn(),
                    type: req.getType(),
                    name: req.getName(),
                    custom: req.getCustom(),
                    parent: req.getParent() || undefined,
                    dependencies: [...new Set(req.getDependenciesList())].sort(),
                    provider: req.getProvider() || undefined,
                    protect: req.getProtect() === true,
                    retainOnDelete: req.getRetainondelete() === true,
                    additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
                    aliases: [...req.getAliasurnsList(), ...req.getAliasesList().map(a => a.toObject())],
                    ignoreChanges: req.getIgnorechangesList(),
                    transforms: req.getTransformsList().length,
                    inputs: reveal(raw) as Record<string, unknown>,
                    redactedInputs: redact(raw) as Record<string, unknown>,
                });
            }
            callback(err, resp);
        });

    const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
    monitor.registerResourceOutputs = (req, callback) => {
        outputs.set(req.getUrn(), reveal(req.getOutputs()?.toJavaScript() ?? {}) as Record<string, unknown>);
        registerOutputs(req, callback);
    };

    return {
        resources,
        warnings,
        errors,
        outputs,
        settle,
        find: (type, name) => resources.find(r => r.type === type && r.name === name),
    };
}

/**
 * Waits for the runtime's pending RPCs, then lets one turn of the event loop pass: Node
 * reports a rejection to `unhandledRejection` listeners only once the tick it happened in
 * is over, and a check inside `apply` fails as such a rejection. Without the turn, the
 * last registration's failure arrives after the caller has moved on (and written a plan).
 * Again while that turn started new RPCs.
 */
async function settle(): Promise<void> {
    const runtime = pulumi.runtime as unknown as { waitForRPCs(): Promise<void> };
    for (;;) {
        await runtime.waitForRPCs();
        const pending = pendingRPCs();
        await new Promise(resolve => setImmediate(resolve));
        if (pendingRPCs() === pending) {
            return;
        }
    }
}

/** The runtime's chain of pending RPCs: each new RPC replaces it. */
function pendingRPCs(): unknown {
    const state = require("@pulumi/pulumi/runtime/state") as { getStore(): { settings: { rpcDone: unknown } } };
    return state.getStore().settings.rpcDone;
}

interface MockMonitorLike {
    registerResource(req: RegisterRequest, callback: (err: Error | null, resp?: RegisterResponse) => void): void;
    registerResourceOutputs(req: RegisterOutputsRequest, callback: (err: Error | null, resp?: unknown) => void): void;
}
interface RegisterOutputsRequest {
    getUrn(): string;
    getOutputs(): { toJavaScript(): unknown } | undefined;
}
interface RegisterRequest {
    getType(): string;
    getName(): string;
    getCustom(): boolean;
    getParent(): string;
    getDependenciesList(): string[];
    getProvider(): string;
    getProtect(): boolean | undefined;
    getRetainondelete(): boolean | undefined;
    getAdditionalsecretoutputsList(): string[];
    getAliasurnsList(): string[];
    getAliasesList(): Array<{ toObject(): unknown }>;
    getIgnorechangesList(): string[];
    getTransformsList(): unknown[];
    getObject(): { toJavaScript(): unknown } | undefined;
}
interface RegisterResponse {
    getUrn(): string;
}

/** Replaces every secret in a raw (wire-format) value by the marker. */
export function redact(value: unknown): unknown {
    return mapSecrets(value, () => SECRET_MARKER);
}

function reveal(value: unknown): unknown {
    return mapSecrets(value, s => reveal(s.value));
}

function mapSecrets(value: unknown, onSecret: (s: { value: unknown }) => unknown): unknown {
    if (isWireSecret(value)) {
        return onSecret(value);
    }
    if (Array.isArray(value)) {
        return value.map(v => mapSecrets(v, onSecret));
    }
    if (typeof value === "object" && value !== null) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapSecrets(v, onSecret)]));
    }
    return value;
}

/** True when the input at the key path was sent as a secret, itself or as part of a secret parent. */
export function isSecretInput(resource: RegisteredResource, ...keys: string[]): boolean {
    let value: unknown = resource.redactedInputs;
    for (const key of keys) {
        if (value === SECRET_MARKER) {
            return true;
        }
        if (typeof value !== "object" || value === null) {
            return false;
        }
        value = (value as Record<string, unknown>)[key];
    }
    return value === SECRET_MARKER;
}
