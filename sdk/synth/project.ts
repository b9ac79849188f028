import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { CONFIG_KEYS, CONFIG_NAMESPACE } from "../config";
import { SECRET_MARKER } from "./engine";

/** A Pulumi project as synth needs it: its name, program and stacks. */
export interface Project {
    readonly directory: string;
    readonly name: string;
    /** The program's entry file, absolute. */
    readonly main: string;
    /** Stack names, from the `Pulumi.<stack>.yaml` files beside Pulumi.yaml. */
    readonly stacks: readonly string[];
}

/** An error in what the user gave synth: printed as is, exit status 1. */
export class SynthError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "SynthError";
    }
}

export function readProject(directory: string): Project {
    const file = path.join(directory, "Pulumi.yaml");
    if (!fs.existsSync(file)) {
        throw new SynthError(`no Pulumi.yaml in ${directory}`);
    }
    const doc = YAML.parse(fs.readFileSync(file, "utf8")) as { name?: unknown; main?: unknown } | null;
    if (typeof doc?.name !== "string" || doc.name === "") {
        throw new SynthError(`${file}: \`name\` is required`);
    }
    const main = resolveMain(directory, typeof doc.main === "string" ? doc.main : ".");
    const stacks = fs
        .readdirSync(directory)
        .map(f => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined)
        .sort();
    return { directory, name: doc.name, main, stacks };
}

function resolveMain(directory: string, main: string): string {
    const target = path.resolve(directory, main);
    if (fs.existsSync(target) && fs.statSync(target).isFile()) {
        return target;
    }
    for (const index of ["index.ts", "index.js"]) {
        if (fs.existsSync(path.join(target, index))) {
            return path.join(target, index);
        }
    }
    throw new SynthError(
        `Pulumi.yaml: the program \`main: ${main}\` was not found (looked for ${target} and its index.ts / index.js)`,
    );
}

/** Picks the stack: the one named, or the only one. */
export function chooseStack(project: Project, requested: string | undefined): string {
    if (requested !== undefined) {
        if (!project.stacks.includes(requested)) {
            throw new SynthError(
                `unknown stack '${requested}': no Pulumi.${requested}.yaml in ${project.directory} ` +
                    `(stacks: ${project.stacks.join(", ") || "none"})`,
            );
        }
        return requested;
    }
    if (project.stacks.length === 1) {
        return project.stacks[0];
    }
    throw new SynthError(
        project.stacks.length === 0
            ? `no stack: add a Pulumi.<stack>.yaml to ${project.directory}`
            : `--stack is required: this project has several stacks (${project.stacks.join(", ")})`,
    );
}

/**
 * The stack's config as the Pulumi engine hands it to a program: full `project:key`
 * names, strings, objects as JSON. Encrypted (`secure:`) values cannot be decrypted
 * here: they become secrets holding a stand-in, so nothing real can leak. The stand-in
 * has the shape the key's reader expects ({@link secureStandIn}).
 */
export function readStackConfig(
    project: Project,
    stack: string,
): { config: Record<string, string>; secretKeys: string[] } {
    const file = path.join(project.directory, `Pulumi.${stack}.yaml`);
    let doc: { config?: Record<string, unknown> } | null;
    try {
        doc = YAML.parse(fs.readFileSync(file, "utf8"));
    } catch (err) {
        throw new SynthError(`${file}: ${(err as Error).message.split("\n")[0]}`);
    }
    const config: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [key, value] of Object.entries(doc?.config ?? {})) {
        const full = key.includes(":") ? key : `${project.name}:${key}`;
        const { value: plain, secret } = isSecure(value)
            ? { value: secureStandIn(full), secret: true }
            : unsecure(value);
        config[full] = typeof plain === "string" ? plain : JSON.stringify(plain);
        if (secret) {
            secretKeys.push(full);
        }
    }
    return { config, secretKeys };
}

function isSecure(value: unknown): boolean {
    return (
        typeof value === "object" &&
        value !== null &&
        !Array.isArray(value) &&
        Object.keys(value).length === 1 &&
        "secure" in value
    );
}

/** The key a map stands in with when the whole map is encrypted: valid as a Secret key and as a variable name. */
export const ENCRYPTED_MAP_KEY = "encrypted_in_stack_config";

/** What synth reads as the kubeconfig when it is encrypted: content, so nothing reads it as a path. */
export const KUBECONFIG_STAND_IN = `apiVersion: v1\nkind: Config\n# ${SECRET_MARKER}: encrypted in the stack config\n`;

/**
 * A whole value encrypted with `pulumi config set --secret` can be of any shape Pulumi
 * accepts (a string, or JSON such as a map of secrets). For pulumi-kaptain's own keys,
 * synth stands in a value of the shape the key is read as, so the program runs as it
 * would with the real value: a map holds one redacted entry, the kubeconfig is content.
 */
export function secureStandIn(fullKey: string): unknown {
    const prefix = `${CONFIG_NAMESPACE}:`;
    const kind = fullKey.startsWith(prefix)
        ? (CONFIG_KEYS as Record<string, unknown>)[fullKey.slice(prefix.length)]
        : undefined;
    if (kind === "map" || kind === "secret map") {
        return { [ENCRYPTED_MAP_KEY]: SECRET_MARKER };
    }
    if (fullKey === `${prefix}kubeconfig`) {
        return KUBECONFIG_STAND_IN;
    }
    return SECRET_MARKER;
}

function unsecure(value: unknown): { value: unknown; secret: boolean } {
    if (typeof value === "object" && value !== null) {
        if (isSecure(value)) {
            return { value: SECRET_MARKER, secret: true };
        }
        let secret = false;
        const mapped = Array.isArray(value)
            ? value.map(v => {
                  const r = unsecure(v);
                  secret ||= r.secret;
                  return r.value;
              })
            : Object.fromEntries(
                  Object.entries(value).map(([k, v]) => {
                      const r = unsecure(v);
                      secret ||= r.secret;
                      return [k, r.value];
                  }),
              );
        return { value: mapped, secret };
    }
    return { value, secret: false };
}
