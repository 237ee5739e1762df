/**
 * The esbuild settings every function's bundle shares, kept here without CDK imports so that
 * `npm run bench` measures the same bundle the stack deploys.
 */

/**
 * Where esbuild looks in a package.json for a package's entry point. The AWS SDK's packages name
 * their ES module build in `module`: esbuild keeps only what the code uses of it, where it must
 * keep the CommonJS build in `main` whole.
 */
export const BUNDLE_MAIN_FIELDS: readonly string[] = ['module', 'main'];

/**
 * SDK credential sources left out of the bundle: the IAM Identity Center (SSO) and console
 * sign-in profiles of a shared config file, about 50 KB with the clients they sign in with. The
 * SDK's default chain imports one only for a profile that names it, and reads profiles only
 * when AWS_PROFILE is set or the environment holds no credentials. In Lambda the environment
 * always holds the role's credentials and the stack sets no AWS_PROFILE, so the functions
 * never reach them.
 */
export const BUNDLE_EXTERNAL_MODULES: readonly string[] = ['@aws-sdk/credential-provider-login', '@aws-sdk/credential-provider-sso'];
