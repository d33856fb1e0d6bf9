// Diffusion XAI - Bias Report: does a prototype network's evidence lie outside the anatomy, and in one place (a
// shortcut such as a mark or burned-in text in a corner)? Writes a table per image, the flagged images' evidence and a
// short summary (also printed to the Log).
// Headless: ImageJ-linux64 --headless -batch bias_report.ijm   (Fiji), or the command line:
//   java -jar diffusion-xai.jar "Bias Report" "image=/path/to/images model=sample-ppnet masks=auto output=..."
// All keys, their defaults and allowed values: java -jar diffusion-xai.jar "Bias Report" --help

// ---- where to write (change this) ----
base = getDirectory("temp") + "diffxai";
phantomDir = base + File.separator + "bias-phantoms";
outputDir = base + File.separator + "bias-report";
File.makeDirectory(base);

setBatchMode(true);

// Images to check: phantoms with a bright mark planted in the top-right corner of 80 % of the lesion slices, written
// with their tissue label maps (phantom_0000_labels.tif), which masks=auto reads as the anatomy.
run("Generate Phantoms", "count=4 size=64 seed=5 classes=healthy,lesion contrast=T1 shortcut=mark"
    + " shortcut_class=lesion shortcut_share=0.8 shortcut_corner=top-right output=[" + phantomDir + "] overwrite");

// image   a folder, an image file or an open image's title; [] = the active image
// model   "sample-ppnet" (bundled) or a prototype-network bundle folder
// masks   anatomy masks: auto (the _labels.tif companions), a folder or a file; [] = estimate from each image
// top     prototypes per image whose evidence is measured
// map     how each prototype's pixel map is made: ig (Integrated Gradients, default), gradient, smoothgrad, upsample
// denoiser  "sample" (bundled) or a denoiser bundle: also turn each image into the other class and
//         measure how much of that change lies outside the anatomy; [] = none (faster)
// class_samples  class-maximising images per class (needs the denoiser): where guidance changes them; 0 = none
// output  folder for bias_report.csv, bias_prototypes.csv, bias_evidence.tif, bias_report.md and bias_report.json
run("Bias Report", "image=[" + phantomDir + "] model=sample-ppnet masks=auto top=3 map=ig batch=32"
    + " denoiser=[] class_samples=0 device=cpu output=[" + outputDir + "] overwrite");

// The verdict is in the Log and in bias_report.md; the table "Bias report" has one row per image.
print("Bias report in " + outputDir);
setBatchMode(false);
