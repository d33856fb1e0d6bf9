// Diffusion XAI - follow a prototype network's explanation along a denoising trajectory: synthesize images keeping
// every 5th step, then explain the predicted clean image x0_pred of every kept step. For each sample: the class and
// the top prototypes of the final image, their similarity and the class probability at every step, the step from
// which the final decision holds, and a heatmap hyperstack over time.
// Headless: ImageJ-linux64 --headless -batch explain_trajectory.ijm   (Fiji), or the command line:
//   java -jar diffusion-xai.jar "Explain Trajectory" "trajectory=.../trajectory.tif model=sample-ppnet output=..."
// All keys, their defaults and allowed values: java -jar diffusion-xai.jar "Explain Trajectory" --help

// ---- where to write (change this) ----
outputDir = getDirectory("temp") + "diffxai" + File.separator + "explain_trajectory";
File.makeDirectory(getDirectory("temp") + "diffxai");
File.makeDirectory(outputDir);

setBatchMode(true);

// 1. A trajectory: Synthesize with keep_every > 0 opens the hyperstack "Trajectory" (see synthesize.ijm).
run("Synthesize", "model=sample samples=2 steps=50 sampler=DDIM eta=0 seed=1 label=[] keep_every=5 batch=2"
    + " device=cpu output=[" + outputDir + "] overwrite");

// 2. Explain it. trajectory   the open "Trajectory", or a trajectory.tif / trajectory.ome.tif file
//    model        a prototype bundle (sample-ppnet, sample-eppnet, sample-protopool are bundled)
//    top          prototypes followed per sample         target  class to follow; [] = the final prediction
//    sample       1-based sample; 0 = all                output  explain_trajectory.csv/.json, plots, heatmaps.tif
run("Explain Trajectory", "trajectory=Trajectory model=sample-ppnet top=3 target=[] sample=0 device=cpu"
    + " output=[" + outputDir + File.separator + "explained] overwrite");

// The table "Explain Trajectory": one row per sample and kept step.
table = "Explain Trajectory";
for (i = 0; i < Table.size(table); i++) {
    // a sample whose last x0_pred the network flags out of distribution (column ood) has no decision step
    if (Table.getString("decision_step", i, table) == "undecided") {
        if (i == 0 || Table.get("sample", i - 1, table) != Table.get("sample", i, table))
            print("sample " + Table.get("sample", i, table) + ": undecided (the last x0_pred is out of distribution)");
    } else if (Table.get("step", i, table) == Table.get("decision_step", i, table))
        print("sample " + Table.get("sample", i, table) + ": " + Table.getString("target", i, table)
            + " from step " + Table.get("decision_step", i, table) + " (t=" + Table.get("decision_t", i, table)
            + ") on");
}
print("Explained " + Table.size(table) + " steps; heatmaps: " + nImages + " image(s) open; files in " + outputDir);
setBatchMode(false);
