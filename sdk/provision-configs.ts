import * as path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { unknownProvisionConfigsKeys } from "./arg-keys";
import { DEFAULTS } from "./defaults";
import { ArgProblem, problem, throwIfProblems } from "./errors";
import { locateFile, namespaceDirectoryOf, namespaceProblem } from "./layout";
import { readRegularFile } from "./regular-file";
import { HelmJob, HelmMissingError, HelmResult, jsonProblem, renderWithHelm } from "./helm-values";
import { checkValuesFile, describe, isMapping, parseValues, Values, ValuesFileError } from "./values";
import { isOfflinePlan } from "./offline";

/** A map of values given in the program, for example a stack's secret config object. */
export type ValuesInput = pulumi.Input<Record<string, pulumi.Input<unknown>>>;

/** The arguments of a {@link ProvisionConfigs}: the namespace and one source for each object. */
export interface ProvisionConfigsArgs {
    /** The namespace the objects go into, and the name of its Secret and ConfigMap. A DNS-1123 label. */
    readonly namespace: string;
    /**
     * Also create the Namespace itself; the other objects then depend on it.
     * @default false
     */
    readonly createNamespace?: boolean;
    /**
     * With `createNamespace`: delete the Namespace, and everything still in it, when this
     * component is deleted. Off, Pulumi only forgets the Namespace (`retainOnDelete`).
     * @default false
     */
    readonly deleteNamespace?: boolean;
    /**
     * A YAML file holding the namespace Secret's values (kaptain's `secret.yaml`). Values
     * are read from its `secretKey` mapping (the seed's layout) or, when that key is
     * absent, from the whole top-level mapping. Exclusive with `secret`.
     * @default none
     */
    readonly secretFile?: string;
    /**
     * The key of `secretFile` that holds the values; `false` always takes the whole file.
     * @default "secret"
     */
    readonly secretKey?: string | false;
    /**
     * The namespace Secret's values as a map, for example `config.requireSecretObject("secret")`.
     * Always stored as a Pulumi secret. Exclusive with `secretFile`.
     * @default none
     */
    readonly secret?: ValuesInput;
    /**
     * A plain YAML values file whose `configKeys` mapping fills the namespace ConfigMap.
     * Exclusive with `configKeys`.
     * @default none
     */
    readonly configKeysFile?: string;
    /** The namespace ConfigMap's values as a map. Exclusive with `configKeysFile`. @default none */
    readonly configKeys?: ValuesInput;
    /** The rclone config file for the `rclone-config` Secret. Exclusive with `rcloneConfig`. @default none */
    readonly rcloneConfigFile?: string;
    /** The rclone config content (a Pulumi secret). Exclusive with `rcloneConfigFile`. @default none */
    readonly rcloneConfig?: pulumi.Input<string>;
    /**
     * The Helm 3 binary that renders the Secret's and ConfigMap's values through the
     * provision-configs chart's own templates (the values are Helm's to read). A name is
     * looked up on PATH.
     * @default "helm"
     */
    readonly helmBinary?: string;
    /**
     * The Helmfile repository; relative file paths resolve against the namespace
     * directory (`namespaces/<namespace>` when it exists), then this directory.
     * @default the program's directory (`process.cwd()`)
     */
    readonly workingDirectory?: string;
    /**
     * The objects exist already, rendered by the `provision-configs` chart release of a
     * kaptain deploy: take them over in place. The kubernetes provider's server-side apply
     * updates an object that exists (it never deletes one). Each object is annotated
     * `helm.sh/resource-policy: keep`, so that helm keeps it when it leaves the chart (or
     * the release is uninstalled) instead of deleting it, and `pulumi.com/patchForce`, so
     * that a changed value takes over the fields helm wrote (without it, the apply fails
     * with a field conflict with the `helm` manager).
     * @default false
     */
    readonly adoptFromChart?: boolean;
}

/**
 * The annotations of an object taken over from the chart: helm deletes an object that
 * leaves its release's chart unless the live object says `keep`; the kubernetes provider's
 * server-side apply fails on a field another manager (helm) wrote, unless forced.
 */
export const ADOPTED_ANNOTATIONS = { "helm.sh/resource-policy": "keep", "pulumi.com/patchForce": "true" } as const;

/** The sources of the three objects: a file or a value, never both. */
export const SOURCE_PAIRS = [
    ["secretFile", "secret"],
    ["configKeysFile", "configKeys"],
    ["rcloneConfigFile", "rcloneConfig"],
] as const;

/** The plain, checked form of the arguments: every file read, every default applied. */
export interface ResolvedProvisionConfigs {
    readonly namespace: string;
    readonly createNamespace: boolean;
    readonly deleteNamespace: boolean;
    /** Taken over from the chart: each object carries {@link ADOPTED_ANNOTATIONS}. */
    readonly adoptFromChart: boolean;
    /** undefined: no namespace Secret. */
    readonly secret?: pulumi.Input<Record<string, string>>;
    readonly configKeys?: pulumi.Input<Record<string, string>>;
    readonly rcloneConfig?: pulumi.Input<string>;
}

/** Checks a values file's text before helm reads it; false (and a problem) when refused. */
function valuesFileAccepted(arg: string, file: string, problems: ArgProblem[]): boolean {
    try {
        checkValuesFile(file);
        return true;
    } catch (err) {
        if (err instanceof ValuesFileError) {
            problems.push(problem(arg, err.message));
            return false;
        }
        throw err;
    }
}

/** What needs helm, and the ways to do without it. */
function helmMissing(err: HelmMissingError, needs: string): string {
    return (
        `${err.message}: ProvisionConfigs renders ${needs} with Helm, exactly as the provision-configs chart would. ` +
        "Install Helm 3, name it with `helmBinary`, or leave these objects to the repository's provision-configs " +
        "chart (chart mode: a `provision-configs` release in the helmfile, and `provisionConfigs: false` on the Infrastructure)"
    );
}

/** Renders the jobs with helm; each result, or problems under `arg` (helm missing: under `helmBinary`). */
function renderJobs(helm: string, namespace: string, jobs: readonly (HelmJob & { arg: string })[]): HelmResult[] {
    try {
        return renderWithHelm(helm, jobs, namespace);
    } catch (err) {
        if (err instanceof HelmMissingError) {
            const needs = jobs.map(j => `\`${j.arg}\``).join(" and ");
            if (isOfflinePlan()) {
                // `kaptain synth` deploys nothing: it plans without helm, showing the keys but
                // never a value of ours in place of Helm's. A deploy still needs helm.
                pulumi.log.warn(
                    `${helmMissing(err, needs)}. kaptain synth plans without it: the keys are shown, ` +
                        `their values read "${UNRENDERED}"; \`pulumi up\` and \`pulumi preview\` need helm`,
                );
                return jobs.map(unrenderedKeys);
            }
            return jobs.map(() => ({ problems: [helmMissing(err, needs)] }));
        }
        throw err;
    }
}

/** What an offline plan shows for a value helm would render, where there is no helm. */
export const UNRENDERED = "[not rendered: helm not found]";

/**
 * The keys a job would render, each with {@link UNRENDERED}: the mapping as the `yaml`
 * package reads it, which decides no value. An unreadable file gives no key.
 */
function unrenderedKeys(job: HelmJob): HelmResult {
    let values: unknown;
    try {
        values =
            "map" in job.source
                ? job.source.map
                : parseValues(readRegularFile(job.source.file, "utf8"), job.source.file);
    } catch {
        values = {};
    }
    const mapping = isMapping(values) ? values : {};
    const picked = job.key !== false && isMapping(mapping[job.key]) ? mapping[job.key] : job.keyRequired ? {} : mapping;
    const data: Record<string, string> = {};
    for (const key of Object.keys(picked as Values)) {
        data[key] = UNRENDERED;
    }
    return { data };
}

/** A file's text, or a problem naming the argument and the file (never its content). */
function readFileArgument(arg: string, file: string, problems: ArgProblem[]): string | undefined {
    try {
        return readRegularFile(file, "utf8");
    } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        problems.push(problem(arg, code !== undefined ? `${file} cannot be read (${code})` : (err as Error).message));
        return undefined;
    }
}

/** Renders a map given in the program with helm; its checks run once its value is known. */
function renderInput(
    input: ValuesInput,
    arg: string,
    kind: HelmJob["kind"],
    helm: string,
    namespace: string,
    resource: () => pulumi.Resource | undefined,
): pulumi.Output<Record<string, string>> {
    return pulumi.output(input).apply(values => {
        if (!isMapping(values)) {
            throw new pulumi.ResourceError(`\`${arg}\` must be a mapping, got ${describe(values)}`, resource());
        }
        const notData = jsonProblem(values, "");
        if (notData !== undefined) {
            throw new pulumi.ResourceError(`\`${arg}\`: ${notData}`, resource());
        }
        const [result] = renderJobs(helm, namespace, [
            { arg, kind, key: false, keyRequired: false, source: { map: values as Values } },
        ]);
        if ("problems" in result) {
            const problems = result.problems.map(p => p.replace(/^the map/, `\`${arg}\``));
            throw new pulumi.ResourceError(problems.join("; "), resource());
        }
        return result.data;
    });
}

/** Helm's `indent` under a `|` block keeps the text and ends it with exactly one newline. */
export function rcloneConfigText(content: string): string {
    return content.replace(/\n*$/, "\n");
}

/**
 * Checks the arguments and reads every file, before anything is registered. Throws one
 * error listing every problem, each naming its argument (and file, and line).
 */
export function resolveProvisionConfigs(
    args: ProvisionConfigsArgs,
    programDirectory: string,
    resource: () => pulumi.Resource | undefined = () => undefined,
): ResolvedProvisionConfigs {
    const problems: ArgProblem[] = [];
    const nsProblem = namespaceProblem(args?.namespace);
    if (nsProblem !== undefined) {
        throwIfProblems("ProvisionConfigs", [nsProblem]);
    }
    problems.push(...unknownProvisionConfigsKeys(args));
    const workingDirectory = path.resolve(programDirectory, args.workingDirectory ?? DEFAULTS.workingDirectory);
    const dirs = { workingDirectory, namespaceDirectory: namespaceDirectoryOf(workingDirectory, args.namespace) };

    for (const [a, b] of SOURCE_PAIRS) {
        if (args[a] !== undefined && args[b] !== undefined) {
            problems.push(problem(a, `and \`${b}\` are exclusive: give one source`));
        }
    }

    const helm = args.helmBinary ?? DEFAULTS.provisionConfigs.helmBinary;
    if (typeof helm !== "string" || helm.trim() === "") {
        problems.push(problem("helmBinary", "must be a non-empty string"));
    }
    // The files, checked, then rendered by one helm call.
    const fileJobs: (HelmJob & { arg: "secretFile" | "configKeysFile" })[] = [];
    if (args.secretFile !== undefined) {
        const file = locateFile("secretFile", args.secretFile, dirs, problems);
        if (file !== undefined && valuesFileAccepted("secretFile", file, problems)) {
            const key = args.secretKey ?? DEFAULTS.provisionConfigs.secretKey;
            fileJobs.push({ arg: "secretFile", kind: "Secret", key, keyRequired: false, source: { file } });
        }
    }
    if (args.configKeysFile !== undefined) {
        const file = locateFile("configKeysFile", args.configKeysFile, dirs, problems);
        if (file !== undefined && valuesFileAccepted("configKeysFile", file, problems)) {
            fileJobs.push({
                arg: "configKeysFile",
                kind: "ConfigMap",
                key: "configKeys",
                keyRequired: true,
                source: { file },
            });
        }
    }
    const rendered: Partial<Record<"secretFile" | "configKeysFile", Record<string, string>>> = {};
    if (fileJobs.length > 0 && problems.length === 0) {
        renderJobs(helm, args.namespace, fileJobs).forEach((result, i) => {
            const arg = fileJobs[i].arg;
            if ("problems" in result) {
                problems.push(...[...new Set(result.problems)].map(p => problem(arg, p)));
            } else {
                rendered[arg] = result.data;
            }
        });
    }

    let secret: pulumi.Input<Record<string, string>> | undefined;
    if (rendered.secretFile !== undefined) {
        secret = pulumi.secret(rendered.secretFile);
    } else if (args.secret !== undefined && args.secretFile === undefined) {
        secret = pulumi.secret(renderInput(args.secret, "secret", "Secret", helm, args.namespace, resource));
    }

    let configKeys: pulumi.Input<Record<string, string>> | undefined;
    if (rendered.configKeysFile !== undefined) {
        configKeys = rendered.configKeysFile;
    } else if (args.configKeys !== undefined && args.configKeysFile === undefined) {
        configKeys = renderInput(args.configKeys, "configKeys", "ConfigMap", helm, args.namespace, resource);
    }

    let rcloneConfig: pulumi.Input<string> | undefined;
    if (args.rcloneConfigFile !== undefined) {
        const file = locateFile("rcloneConfigFile", args.rcloneConfigFile, dirs, problems);
        const text = file !== undefined ? readFileArgument("rcloneConfigFile", file, problems) : undefined;
        if (text !== undefined) {
            rcloneConfig = pulumi.secret(rcloneConfigText(text));
        }
    } else if (args.rcloneConfig !== undefined) {
        rcloneConfig = pulumi.secret(pulumi.output(args.rcloneConfig).apply(rcloneConfigText));
    }

    throwIfProblems("ProvisionConfigs", problems);
    return {
        namespace: args.namespace,
        createNamespace: args.createNamespace ?? DEFAULTS.createNamespace,
        deleteNamespace: args.deleteNamespace ?? DEFAULTS.deleteNamespace,
        adoptFromChart: args.adoptFromChart === true,
        secret,
        configKeys,
        rcloneConfig,
    };
}

/** The objects of a ProvisionConfigs; each is undefined when its source is. */
export interface ProvisionConfigsObjects {
    readonly namespaceObject?: k8s.core.v1.Namespace;
    readonly secret?: k8s.core.v1.Secret;
    readonly configMap?: k8s.core.v1.ConfigMap;
    readonly rcloneSecret?: k8s.core.v1.Secret;
}

/**
 * A Namespace that outlives its Pulumi resource unless `deleteNamespace` says
 * otherwise: deleting it deletes every release's objects in it, which no config change
 * or rename should do by accident.
 */
export function namespaceResource(
    name: string,
    namespace: string,
    deleteNamespace: boolean,
    opts: pulumi.CustomResourceOptions,
): k8s.core.v1.Namespace {
    return new k8s.core.v1.Namespace(
        name,
        { metadata: { name: namespace } },
        { ...opts, ...(deleteNamespace ? {} : { retainOnDelete: true }) },
    );
}

/** Registers the objects as children of `parent`, named `${name}-<role>`. */
export function buildProvisionConfigs(
    name: string,
    parent: pulumi.Resource,
    resolved: ResolvedProvisionConfigs,
    dependsOn?: pulumi.Input<pulumi.Input<pulumi.Resource>[]> | pulumi.Input<pulumi.Resource>,
): ProvisionConfigsObjects {
    const namespaceObject = resolved.createNamespace
        ? namespaceResource(`${name}-namespace`, resolved.namespace, resolved.deleteNamespace, { parent, dependsOn })
        : undefined;
    const opts: pulumi.CustomResourceOptions = { parent, dependsOn: namespaceObject ? [namespaceObject] : dependsOn };
    const metadata = (objectName: string) => ({
        name: objectName,
        namespace: resolved.namespace,
        ...(resolved.adoptFromChart ? { annotations: ADOPTED_ANNOTATIONS } : {}),
    });

    const secret =
        resolved.secret === undefined
            ? undefined
            : new k8s.core.v1.Secret(
                  `${name}-namespace-secret`,
                  {
                      metadata: metadata(resolved.namespace),
                      type: "Opaque",
                      stringData: resolved.secret,
                  },
                  opts,
              );
    const configMap =
        resolved.configKeys === undefined
            ? undefined
            : new k8s.core.v1.ConfigMap(
                  `${name}-namespace-configmap`,
                  {
                      metadata: metadata(resolved.namespace),
                      data: resolved.configKeys,
                  },
                  opts,
              );
    const rcloneSecret =
        resolved.rcloneConfig === undefined
            ? undefined
            : new k8s.core.v1.Secret(
                  `${name}-rclone-config`,
                  {
                      metadata: metadata("rclone-config"),
                      type: "Opaque",
                      stringData: { "rclone.conf": resolved.rcloneConfig },
                  },
                  opts,
              );
    return { namespaceObject, secret, configMap, rcloneSecret };
}

/**
 * What the `provision-configs` chart of a kaptain repository renders, as native
 * Kubernetes objects: the namespace Secret (from `secret.yaml`), the namespace
 * ConfigMap (from `configKeys`) and the `rclone-config` Secret (from `rclone.conf`),
 * each diffed field by field and encrypted in state.
 */
export class ProvisionConfigs extends pulumi.ComponentResource {
    /** The Namespace, when `createNamespace` is set. */
    public readonly namespaceObject?: k8s.core.v1.Namespace;
    /** The Opaque Secret named after the namespace. */
    public readonly secret?: k8s.core.v1.Secret;
    /** The ConfigMap named after the namespace. */
    public readonly configMap?: k8s.core.v1.ConfigMap;
    /** The `rclone-config` Secret. */
    public readonly rcloneSecret?: k8s.core.v1.Secret;

    constructor(name: string, args: ProvisionConfigsArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("kaptain:index:ProvisionConfigs", name, {}, opts);
        const resolved = resolveProvisionConfigs(args, process.cwd(), () => this);
        const objects = buildProvisionConfigs(name, this, resolved, opts.dependsOn);
        this.namespaceObject = objects.namespaceObject;
        this.secret = objects.secret;
        this.configMap = objects.configMap;
        this.rcloneSecret = objects.rcloneSecret;
        this.registerOutputs({
            namespaceObject: this.namespaceObject,
            secret: this.secret,
            configMap: this.configMap,
            rcloneSecret: this.rcloneSecret,
        });
    }
}
