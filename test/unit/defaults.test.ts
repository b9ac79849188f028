// The README's configuration table says what the code does: every default it names is
// the one in sdk/defaults.ts, and every default there is in the table.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULTS } from "../../sdk/defaults";
import { REPO_ROOT } from "../support/program";

const readme = fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");

/** The rows of the stack configuration table: key cell and default cell. */
function tableRows(): Array<{ keys: string[]; defaults: string[] }> {
    const section = readme.slice(readme.indexOf("### Stack configuration"));
    const table = section.slice(section.indexOf("| key |"), section.indexOf("\n\n", section.indexOf("| key |")));
    return table
        .split("\n")
        .slice(2)
        .map(line => line.split(" | ").map(cell => cell.replace(/^\| |\s*\|$/g, "")))
        .map(([keyCell, , defaultCell]) => {
            const parts = keyCell.split(" / ").map(k => k.replace(/`/g, ""));
            const first = parts[0];
            const parent = first.includes(".") ? first.slice(0, first.lastIndexOf(".")) : "";
            const keys = parts.map((k, i) => (i === 0 ? k : k.startsWith(".") ? parent + k : `${parent}.${k}`));
            return { keys, defaults: defaultCell.split(" / ") };
        });
}

function lookup(key: string): unknown {
    return key.split(".").reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], DEFAULTS);
}

function shown(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

function leaves(value: unknown, prefix = ""): string[] {
    if (typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length > 0) {
        return Object.entries(value).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
    }
    return [prefix];
}

describe("defaults", () => {
    it("the README's table gives the default of sdk/defaults.ts for every key it lists", () => {
        const rows = tableRows();
        expect(rows.length).toBeGreaterThan(20);
        const checked: string[] = [];
        for (const { keys, defaults } of rows) {
            keys.forEach((key, i) => {
                const value = lookup(key);
                if (value !== undefined) {
                    expect(defaults[i] ?? defaults[0], key).toContain(`\`${shown(value)}\``);
                    checked.push(key);
                }
            });
        }
        const configurable = leaves(DEFAULTS).filter(k => k !== "fingerprintMaxGroups");
        expect(checked.sort()).toEqual(configurable.sort());
    });

    it("the README states the fingerprint's group limit", () => {
        expect(readme).toContain(`one level deep above ${DEFAULTS.fingerprintMaxGroups} groups`);
    });
});
