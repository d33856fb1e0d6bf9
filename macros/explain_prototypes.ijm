// Diffusion XAI - explain a prototype network's decision: which learned prototypes each slice looks like, where,
// and how much each adds to the class score ("this looks like that").
// Headless: ImageJ-linux64 --headless -batch explain_prototypes.ijm   (Fiji), or the command line:
//   java -jar diffusion-xai.jar "Explain with Prototypes" "image=slice.tif model=sample-ppnet top=5 output=..."
// All keys, their defaults and allowed values: java -jar diffusion-xai.jar "Explain with Prototypes" --help

// ---- where to write (change this) ----
outputDir = getDirectory("temp") + "diffxai" + File.separator + "explain";
File.makeDirectory(getDirectory("temp") + "diffxai");
File.makeDirectory(outputDir);

setBatchMode(true);

// Something to explain: four phantom slices (two healthy, two with a lesion), the stack "Phantoms".
run("Generate Phantoms", "count=2 size=64 seed=5 classes=healthy,lesion contrast=T1 output=[]");

// image   an open image's title or an image file; [] = the active image; a stack explains every slice
// model   "sample-ppnet" (bundled) or a prototype-network bundle folder
// top     prototypes per slice, largest contribution first
// target  class to explain, name or index; [] = each slice's predicted class
// batch   slices per model call                device  auto, cpu or gpu
// output  folder for explain.csv, overlays.tif and explain.json
run("Explain with Prototypes", "image=Phantoms model=sample-ppnet top=3 target=[] batch=32 device=cpu"
    + " output=[" + outputDir + "] overwrite");

// The result is the active image: one RGB panel per slice and rank (image + heat map + box | source prototype).
print("Prototype explanation: " + nSlices + " panels; first: " + getInfo("slice.label"));
print("Files in " + outputDir);
setBatchMode(false);
