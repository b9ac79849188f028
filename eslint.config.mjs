// npm run lint: typescript-eslint's recommended rules on the SDK, its tests and the example.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
    { ignores: ["bin/**", "out/**", ".cache/**", "node_modules/**", "docs/api/**"] },
    js.configs.recommended,
    ...tseslint.configs.recommended,
    {
        files: ["**/*.ts", "**/*.mts"],
        rules: {
            // Unused arguments named _x are deliberate (destructuring away a field).
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
            // require() is how the CLI loads the Pulumi SDKs before the TypeScript loader.
            "@typescript-eslint/no-require-imports": "off",
        },
    },
    {
        files: ["**/*.cjs"],
        languageOptions: {
            globals: { require: "readonly", module: "writable", __dirname: "readonly", process: "readonly" },
        },
        rules: { "@typescript-eslint/no-require-imports": "off" },
    },
);
