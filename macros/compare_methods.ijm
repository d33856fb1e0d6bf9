// Diffusion XAI - compare the explanations of PPNet, EPPNet and ProtoPool on the same images with every faithfulness
// metric, against two controls: a random attribution map, and the same networks with re-initialised weights
// (model randomisation, Adebayo et al. 2018). One table: per model, method and metric the mean, its 95% bootstrap
// interval and n; one bar plot per metric.
// Headless: ImageJ-linux64 --headless -batch compare_methods.ijm   (Fiji), or the command line:
//   java -jar diffusion-xai.jar "Compare Explanation Methods" "denoiser=sample samples=32 output=..."
// All keys, their defaults and allowed values: java -jar diffusion-xai.jar "Compare Explanation Methods" --help
// It takes minutes: every image costs about a thousand classifier calls per model. Esc cancels (GUI).

// ---- where to write (change this) ----
outputDir = getDirectory("temp") + "diffxai" + File.separator + "compare";
File.makeDirectory(getDirectory("temp") + "diffxai");
File.makeDirectory(outputDir);

setBatchMode(true);

// images         a folder, an open stack's title or an image file; [] to synthesize them instead with
// denoiser       a denoiser bundle ("sample" is bundled): samples images, DDIM with steps steps, from seed
// models         prototype bundles, comma-separated (sample-ppnet, sample-eppnet, sample-protopool are bundled)
// metric         faithfulness_correlation, deletion, insertion, monotonicity, region_perturbation,
//                prototype_perturbation, nis, or all        baseline   blur, zero, min or mean
// runs, subset_size, step, patch_size, top: the metrics' settings (docs/faithfulness.md; 0 = automatic)
// bootstrap      resamples of each 95% interval             randomization  both, top, full or none
// seed           same seed -> same numbers                  target     class to explain; [] = predicted class
run("Compare Explanation Methods", "images=[] denoiser=sample samples=32 steps=50"
    + " models=[sample-ppnet,sample-eppnet,sample-protopool] metric=all baseline=blur runs=100 subset_size=0 step=0"
    + " patch_size=0 top=10 bootstrap=2000 randomization=both seed=1 target=[] device=cpu output=[" + outputDir + "] overwrite");

// The table "Compare Explanation Methods": one row per model, method and metric.
table = "Compare Explanation Methods";
for (i = 0; i < Table.size(table); i++) {
    print(Table.getString("model", i, table) + "  " + Table.getString("method", i, table) + "  "
        + Table.getString("metric", i, table) + "  " + d2s(Table.get("mean", i, table), 4) + "  ["
        + d2s(Table.get("ci_low", i, table), 4) + ", " + d2s(Table.get("ci_high", i, table), 4) + "]  n="
        + Table.get("n", i, table));
}
print("Compared " + Table.size(table) + " rows; files in " + outputDir);
setBatchMode(false);
