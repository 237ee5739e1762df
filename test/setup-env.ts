// Tests run on Node 20; the AWS SDK's notice about its future Node requirement is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
// Metrics go to stdout as Embedded Metric Format in Lambda; tests that need them turn them back on.
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
