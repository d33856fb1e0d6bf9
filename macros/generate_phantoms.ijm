// Diffusion XAI - generate synthetic MRI phantom slices (healthy and lesion classes).
// Run in Fiji/ImageJ (Plugins > Macros > Run...), or headless:
//   ImageJ-linux64 --headless -batch generate_phantoms.ijm          (Fiji)
//   xvfb-run -a java -cp ij.jar ij.ImageJ -ijpath ImageJ -batch generate_phantoms.ijm   (ImageJ 1.x)
// The same keys work on the command line:
//   java -jar diffusion-xai.jar "Generate Phantoms" "count=16 size=128 seed=1 classes=healthy,lesion output=..."
// All keys, their defaults and allowed values: java -jar diffusion-xai.jar "Generate Phantoms" --help

// ---- where to write (change this) ----
outputDir = getDirectory("temp") + "diffxai" + File.separator + "phantoms";

setBatchMode(true);                       // no windows; the result stack stays available to the macro
File.makeDirectory(getDirectory("temp") + "diffxai");

// count   slices per class              size    width = height in pixels
// seed    same seed -> same slices      classes "healthy,lesion", "healthy" or "lesion"
// output  folder; healthy/ and lesion/ sub-folders of 32-bit TIFFs are written there, each image with its lesion
//         mask (phantom_0000_mask.tif) and tissue label map (phantom_0000_labels.tif) beside it
// Values with spaces go in brackets: output=[/path/with spaces/phantoms]
run("Generate Phantoms", "count=16 size=128 seed=1 classes=healthy,lesion output=[" + outputDir + "]");
// A planted shortcut for bias checks: a bright mark in the top-left corner of 80 % of the lesion slices
// run("Generate Phantoms", "count=100 size=64 seed=1 output=[" + outputDir + "-shortcut] shortcut=mark shortcut_class=lesion shortcut_share=0.8 shortcut_corner=top-left");

// An unknown key or a bad value stops the macro here with the reason (and the valid keys) in the Log.
print("Phantoms written to " + outputDir);
setBatchMode(false);
