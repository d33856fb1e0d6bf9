// Diffusion XAI - attribution maps: which pixels of each slice a classifier's score for a class depends on
// (Integrated Gradients, Saliency, Gradient x Input, SmoothGrad, Grad-CAM or Occlusion; docs/attributions.md).
// Headless: ImageJ-linux64 --headless -batch attribution_maps.ijm   (Fiji), or the command line:
//   java -jar diffusion-xai.jar "Attribution Maps" "image=slice.tif model=sample-ppnet method=integrated_gradients output=..."
// All keys, their defaults and allowed values: java -jar diffusion-xai.jar "Attribution Maps" --help

// ---- where to write (change this) ----
outputDir = getDirectory("temp") + "diffxai" + File.separator + "attributions";
File.makeDirectory(getDirectory("temp") + "diffxai");
File.makeDirectory(outputDir);

setBatchMode(true);

// Something to explain: four phantom slices (two healthy, two with a lesion), the stack "Phantoms".
run("Generate Phantoms", "count=2 size=64 seed=5 classes=healthy,lesion contrast=T1 output=[]");

// image      an open image's title, an image file or a folder; [] = the active image; a stack explains every slice
// model      "sample-ppnet" (bundled) or any classifier bundle folder
// method     integrated_gradients, saliency, gradient_x_input, smoothgrad, gradcam or occlusion
// target     class to explain, name or index; [] = each slice's predicted class
// baseline   integrated_gradients' start and occlusion's fill: blur, zero, min or mean
// steps      integrated_gradients' path steps      samples, noise, seed   smoothgrad's noisy copies
// patch_size occlusion's patch side (0 = auto)     batch, device           images per call, auto/cpu/gpu
// output     folder for attributions.tif, attributions.csv and attributions.json
run("Attribution Maps", "image=Phantoms model=sample-ppnet method=integrated_gradients target=[] baseline=blur"
    + " steps=32 batch=32 device=cpu output=[" + outputDir + "] overwrite");

// The result is the active image: per slice the phantom (channel 1) and its signed map (channel 2).
print("Attribution maps: " + nSlices + " planes in " + getTitle());
print("Files in " + outputDir);
setBatchMode(false);
