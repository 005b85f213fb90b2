// Package option declares keyless's options once. A cloud package lists its
// own Specs; the CLI turns each into a flag, its KEYLESS_ variable and the
// README's row, and the action.yml test checks the inputs against them.
// Parsed values reach the cloud package as Values, which it reads into its
// own Options:
//
//	specs := aws.OptionSpecs()        // [{Name: "aws-role", …}, …]
//	o := aws.OptionsFrom(values)      // the aws package's Options
package option
