// ESLint flat config: typescript-eslint's type-checked rules for the extension and its tests, plain
// recommended rules for the Node e2e driver. `npm run lint` (and tests/browser/test_vscode_unit.py) runs it.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

const nodeGlobals = {
  process: "readonly",
  console: "readonly",
  fetch: "readonly",
  URL: "readonly",
  setTimeout: "readonly",
  clearTimeout: "readonly",
};

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", ".cache/**", "*.vsix"] },
  js.configs.recommended,
  {
    files: ["src/**/*.ts", "test/**/*.ts"],
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Errors are reported through `conn.report`, which narrows `unknown` itself.
      "@typescript-eslint/only-throw-error": "error",
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      eqeqeq: ["error", "always"],
      curly: "error",
    },
  },
  {
    files: ["e2e/**/*.mjs", "*.mjs"],
    languageOptions: { sourceType: "module", globals: nodeGlobals },
    rules: { eqeqeq: ["error", "always"] },
  },
);
