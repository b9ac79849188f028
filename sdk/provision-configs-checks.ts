// Checks of an Infrastructure's provision-configs objects made with its other checks,
// before any child is registered.
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { ArgProblem } from "./errors";
import { RepositoryLayout } from "./layout";
import { ProvisionConfigsArgs, resolveProvisionConfigs } from "./provision-configs";

/**
 * The problems of the ProvisionConfigs an Infrastructure will create (a `secretFile` that
 * does not exist, a values file that does not parse), named under `provisionConfigs.`.
 * The component finds them too, but only when it is constructed, after the config phase
 * it follows was registered: `pulumi up` would already be running that phase. Values
 * given as Inputs are checked when known, as they are in the component.
 */
export function provisionConfigsProblems(
    args: ProvisionConfigsArgs | undefined,
    programDirectory: string,
): ArgProblem[] {
    if (args === undefined) {
        return [];
    }
    const plain: ProvisionConfigsArgs = {
        ...args,
        ...(args.secret !== undefined ? { secret: {} } : {}),
        ...(args.configKeys !== undefined ? { configKeys: {} } : {}),
        ...(args.rcloneConfig !== undefined ? { rcloneConfig: "" } : {}),
    };
    try {
        resolveProvisionConfigs(plain, programDirectory);
        return [];
    } catch (err) {
        const details = pulumi.InputPropertiesError.isInstance(err)
            ? err.errors
            : pulumi.InputPropertyError.isInstance(err)
              ? [err]
              : undefined;
        if (details === undefined) {
            throw err;
        }
        return details.map(d => ({
            propertyPath: `provisionConfigs.${d.propertyPath}`,
            reason: d.reason.replace(`\`${d.propertyPath}\``, `\`provisionConfigs.${d.propertyPath}\``),
        }));
    }
}

// kaptain finds the namespace Secret's values by one name, `secret.yaml`. Moved or renamed,
// the file is simply not found: the Secret is never created, or deleted by the next
// update, and nothing fails. The program cannot read what was deployed before, but it can
// see the evidence that a Secret was meant: a look-alike file where secret.yaml is looked
// for, or the other namespaces' folders holding theirs.

/** `secret.yml`, `Secret.yaml`, `secrets.yaml`, `secret.yaml.bak`…: not the name kaptain reads. */
const LOOK_ALIKE = /^secrets?\.(ya?ml|json)(\.[^/]+)?$/i;

/**
 * Warns when the Infrastructure creates its provision-configs objects (`mode`
 * "component") without a namespace Secret although one looks meant.
 */
export function missingSecretWarnings(
    layout: RepositoryLayout,
    provisionConfigs: ProvisionConfigsArgs | undefined,
    mode: "component" | "chart" | "off",
): string[] {
    if (mode !== "component" || provisionConfigs?.secretFile !== undefined || provisionConfigs?.secret !== undefined) {
        return [];
    }
    const folders = [...new Set([layout.namespaceDirectory, layout.workingDirectory])];
    const lookAlikes = folders.flatMap(dir =>
        entries(dir)
            .filter(e => e.isFile() && e.name !== "secret.yaml" && LOOK_ALIKE.test(e.name))
            .map(e => path.join(dir, e.name)),
    );
    const siblings =
        layout.namespaceDirectory === layout.workingDirectory
            ? [] // no folder of its own: the layout warning already says so
            : entries(path.join(layout.workingDirectory, "namespaces"))
                  .filter(e => e.isDirectory() && e.name !== layout.namespace)
                  .map(e => path.join(layout.workingDirectory, "namespaces", e.name, "secret.yaml"))
                  .filter(f => fs.existsSync(f));
    if (lookAlikes.length === 0 && siblings.length === 0) {
        return [];
    }
    const evidence =
        lookAlikes.length > 0
            ? `, but ${lookAlikes.join(" and ")} ${lookAlikes.length > 1 ? "do" : "does"}`
            : `, while other namespaces have theirs (${siblings.join(", ")})`;
    const consequence =
        provisionConfigs === undefined
            ? "no namespace Secret is created, and ProvisionConfigs, with nothing left to create, is left out: " +
              "a namespace Secret, ConfigMap or rclone-config Secret deployed before is deleted by this update"
            : "no namespace Secret is created: one deployed before is deleted by this update";
    return [
        `namespace '${layout.namespace}': ${folders.map(d => path.join(d, "secret.yaml")).join(" and ")} ` +
            `${folders.length > 1 ? "do" : "does"} not exist (kaptain reads the namespace Secret from that name only)` +
            `${evidence}. So ${consequence}. Put the file back as secret.yaml, or name it with \`provisionConfigs.secretFile\``,
    ];
}

function entries(dir: string): fs.Dirent[] {
    try {
        return fs.readdirSync(dir, { withFileTypes: true });
    } catch {
        return [];
    }
}
