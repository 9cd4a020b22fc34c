set terminal pngcairo size 800,560 enhanced font "DejaVu Sans,11"
set output "ev.png"
set xlabel "volume per atom (Å^3)"
set ylabel "E/atom − E_0(diamond) of the same method (eV)"
set key top right
set grid
set title "Si: E(V) of diamond, β-tin, simple hexagonal (primitive cells; DFT cells)"
plot "ev_dft_diamond.dat" u 1:2 w p pt 7 ps 1.2 lc rgb "#1f77b4" t "diamond: DFT (PBE)", \
     "ev_dft_diamond_fit.dat" u 1:2 w l dt 2 lw 1 lc rgb "#1f77b4" notitle, \
     "ev_ml_diamond_fit.dat" u 1:2 w l lw 2 lc rgb "#1f77b4" t "diamond: facet (Si-PBE), BM3 fit", \
     "ev_ml_diamond.dat" u 1:2 w p pt 6 ps 1.2 lc rgb "#1f77b4" notitle, \
     "ev_dft_beta-tin.dat" u 1:2 w p pt 7 ps 1.2 lc rgb "#d62728" t "beta-tin: DFT (PBE)", \
     "ev_dft_beta-tin_fit.dat" u 1:2 w l dt 2 lw 1 lc rgb "#d62728" notitle, \
     "ev_ml_beta-tin_fit.dat" u 1:2 w l lw 2 lc rgb "#d62728" t "beta-tin: facet (Si-PBE), BM3 fit", \
     "ev_ml_beta-tin.dat" u 1:2 w p pt 6 ps 1.2 lc rgb "#d62728" notitle, \
     "ev_dft_sh.dat" u 1:2 w p pt 7 ps 1.2 lc rgb "#2ca02c" t "sh: DFT (PBE)", \
     "ev_dft_sh_fit.dat" u 1:2 w l dt 2 lw 1 lc rgb "#2ca02c" notitle, \
     "ev_ml_sh_fit.dat" u 1:2 w l lw 2 lc rgb "#2ca02c" t "sh: facet (Si-PBE), BM3 fit", \
     "ev_ml_sh.dat" u 1:2 w p pt 6 ps 1.2 lc rgb "#2ca02c" notitle
