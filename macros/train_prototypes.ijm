// Diffusion XAI - train a prototype network (PPNet, EPPNet or ProtoPool) that tells healthy from lesion phantoms,
// and save it as a classifier bundle whose prototypes are linked to training patches (prototypes.json, gallery.tif).
// Headless: ImageJ-linux64 --headless -batch train_prototypes.ijm   (Fiji), or the command line:
//   java -jar diffusion-xai.jar "Train Prototype Network" "images=... method=PPNet size=64 epochs=30 output=..."
// All keys, their defaults and allowed values: java -jar diffusion-xai.jar "Train Prototype Network" --help
// This example is small and fast (a few minutes on a laptop CPU); real models need more images and epochs
// (see the README, "Sample prototype networks"). Esc cancels (GUI).

// ---- where to write (change this) ----
outputDir = getDirectory("temp") + "diffxai" + File.separator + "prototypes";

setBatchMode(true);
File.makeDirectory(outputDir);
imagesDir = outputDir + File.separator + "phantoms";    // one sub-folder per class: healthy/, lesion/
bundleDir = outputDir + File.separator + "ppnet";       // the bundle folder (overwrite replaces an earlier run)

run("Generate Phantoms", "count=60 size=64 seed=2 classes=healthy,lesion output=[" + imagesDir + "] overwrite");

// images      folder, one sub-folder per class     method              PPNet, EPPNet or ProtoPool
// size        images are resized to size x size    prototypes_per_class  PPNet/EPPNet (ProtoPool: pool_size)
// epochs      warm-up + joint epochs               push_every          push prototypes every n joint epochs
// validation  fraction held out per class (accuracy, calibration, OOD thresholds)   seed  same seed + data -> same net
// fit         pad, crop or stretch images of another size    noise, intensity  augmentation (0 = off)
// background  keep, randomize or mask the pixels outside the anatomy (foreground: estimate, labels or a mask folder)
run("Train Prototype Network", "images=[" + imagesDir + "] method=PPNet prototypes_per_class=5 size=64 fit=pad"
    + " epochs=10 batch=32 push_every=5 last_layer_epochs=2 validation=0.2 seed=1 noise=0.3 intensity=0.2"
    + " background=keep output=[" + bundleDir + "] overwrite");

// The table "Prototype Training" holds loss and accuracy per epoch (and a plot of both); the Log the validation
// accuracy. model.json holds the temperature and ECE before/after calibration, prototypes.json the OOD thresholds.
print("Prototype network written to " + bundleDir);
setBatchMode(false);
